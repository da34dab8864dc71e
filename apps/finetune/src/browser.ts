// `@clipwise/finetune/browser`: the pieces of `clipwise train` that run in a web page too (no Node
// built-in reachable from here), for the web example (apps/web) to reuse rather than copy.
export { takeTrainStep, type TrainStepParts, type TrainStepResult } from './train/train-step';
export { greedyGenerate, greedyGenerateMany, meanTargetLoss, type GenerationRequest, type GenerateManyOptions } from './train/text-eval';
export { perSampleLossFn, setBoundedShapeTrim, boundedShapeTrimEnabled, shapeChangeTrimmer } from './train/per-sample-loss';
export { e2eTaskData, firstRows, textTaskData, type E2ETaskInput, type TextTaskInput, type TaskData, type TokenRows } from './train/in-memory-task';
export { privacyReport, type PrivacyReport, type PrivacyReportInput } from './report/privacy-report';
export { formatEpsilon, formatLoss, formatNumber, formatPercent, formatSeconds, formatSmall } from './report/format-number';
export { DEMO_DATA, DEMO_MODEL, DEMO_SETTINGS, PAGE_MODEL, PAGE_SETTINGS } from './commands/demo-settings';
export { LINES_UP_TO, linePlotOptions, SERIES_COLOURS, type LineChartOptions, type Series } from './report/line-plot';
export { heatMapPlotOptions, HEAT_COLOUR_SCALE, type HeatRow } from './report/heat-map-plot';
export { noiseSeed, samplerSeed } from './train/seed-streams';
