import path from 'node:path';
import type { PrivacyAccountant } from '@clipwise/accountant';
import type { PoolStats } from '@clipwise/core';
import type { Grouping } from '@clipwise/grouping';
import type { PrivateGradients } from '@clipwise/optim';
import { privacyReport, type ThresholdReport } from '../report/privacy-report';
import { renderReportHtml } from '../report/report-html';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write';
import type { EvalResult } from './evaluate';
import type { StepRecord } from './step-record';
import type { TaskData, TaskKind } from './task-data';
import type { TrainConfig } from './train-config';
import type { TrainedSubset } from './trainable-setup';

export interface ReportInput {
  config: TrainConfig;
  task: TaskKind;
  data: TaskData;
  grouping: Grouping;
  accountant: PrivacyAccountant | null;
  sigma: number | null;
  q: number;
  n: number;
  expectedBatchSize: number;
  steps: StepRecord[];
  evals: EvalResult[];
  status: 'done' | 'budget';
  wallMs: number;
  /** The private step (null for --no-dp): its threshold policy goes into the report. */
  gradients?: PrivateGradients | null;
  /** What trained (--trainable, --lora-rank); the rest was frozen. */
  trained: TrainedSubset;
  /** The webgpu pool's high-water marks over the run (`gpuPoolStats`), else null. */
  devicePeak?: PoolStats | null;
}

function thresholdReport(r: ReportInput): ThresholdReport | null {
  const g = r.gradients;
  if (!g) return null;
  const p = g.thresholdPolicy;
  if (p.kind !== 'adaptive') return { kind: 'fixed' };
  const first = r.steps[0]?.groups.map((x) => x.threshold!) ?? [...g.grouping.thresholds];
  return {
    kind: 'adaptive', targetQuantile: p.targetQuantile, learningRate: p.learningRate, countNoise: p.countNoise, countSensitivity: p.countSensitivity,
    countNoiseMultiplier: p.countNoiseMultiplier, gradientNoiseMultiplier: g.options.noiseMultiplier, initialThresholds: first, finalThresholds: [...g.grouping.thresholds],
  };
}

/**
 * One per-group field over steps: `{ [group]: [[step, value], ...] }` for the steps that recorded it
 * (C_m of adaptive thresholds, the released noisy clip fraction of private diagnostics).
 */
function groupSeries(steps: StepRecord[], field: 'threshold' | 'noisyClipFraction'): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const s of steps) for (const g of s.groups) if (g[field] !== undefined) (out[g.group] ??= []).push([s.step, g[field]]);
  return out;
}

/**
 * The step records as the report may show them: a private run's report holds only what the
 * accountant released (the raw statistics of --diagnostics raw stay in log.jsonl).
 */
function reportable(steps: StepRecord[], rawInReport: boolean): StepRecord[] {
  if (rawInReport) return steps;
  return steps.map(({ loss: _loss, groups, ...s }) => ({
    ...s, groups: groups.map(({ clipFraction: _c, medianNorm: _m, maxNorm: _x, ...g }) => g),
  }));
}

/** Writes OUT/report/metrics.json, privacy.json and report.html. */
export async function writeReports(r: ReportInput): Promise<void> {
  const dir = path.join(r.config.out, 'report');
  const spent = r.accountant ? r.accountant.getPrivacySpent(r.config.delta) : null;
  const privacy = privacyReport({
    noDp: r.sigma === null,
    epsilon: spent?.epsilon ?? null,
    delta: r.config.delta,
    targetEpsilon: r.config.epsilon ?? null,
    accountant: r.config.accountant,
    sampleRate: r.q,
    expectedBatchSize: r.expectedBatchSize,
    datasetSize: r.n,
    noiseMultiplier: r.sigma,
    steps: r.accountant ? r.accountant.steps : r.steps.length,
    sampling: r.config.sampling,
    accountantCaveats: spent?.caveats ?? [],
    clippingFn: r.config.clipping,
    groupingSpec: r.config.grouping,
    grouping: r.grouping,
    tokenizer: r.data.kind === 'images' ? undefined : r.config.tokenizer,
    stoppedAtBudget: r.status === 'budget',
    thresholds: thresholdReport(r),
    diagnostics: r.config.diagnostics ?? 'raw',
    releases: r.gradients?.releases ?? [],
    evaluated: r.evals.length > 0,
    trained: { mode: r.trained.mode, trainedParameters: r.trained.trainedScalars, totalParameters: r.trained.totalScalars, tensors: r.trained.params.map((p) => p.name) },
  });
  // Exact training statistics go into the report only when nothing is private anyway (--no-dp).
  const rawInReport = r.sigma === null;
  const losses = rawInReport ? r.steps.map((s) => s.loss).filter((l): l is number => typeof l === 'number') : [];
  const tail = losses.slice(-Math.max(1, Math.ceil(losses.length / 10)));
  const last = r.evals.at(-1);
  const noisyClip = groupSeries(r.steps, 'noisyClipFraction');
  const metrics = {
    task: r.task,
    model: r.config.model,
    parameters: r.trained.totalScalars,
    trainable: r.trained.mode,
    trainedParameters: r.trained.trainedScalars,
    trainingExamples: r.n,
    steps: r.steps.length,
    status: r.status,
    diagnostics: privacy.diagnostics,
    /** Mean raw training loss of the last 10% of steps: --no-dp only (NOT PRIVATE); private runs report evaluation loss. */
    finalTrainLoss: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : null,
    evalLoss: last?.loss ?? null,
    evalPerplexity: last?.perplexity ?? null,
    evalAccuracy: last?.accuracy ?? null,
    bleu: last?.bleu ?? null,
    rougeL: last?.rougeL ?? null,
    epsilon: privacy.epsilon,
    delta: privacy.delta,
    meanStepMs: r.steps.length ? r.steps.reduce((a, s) => a + s.stepMs, 0) / r.steps.length : null,
    wallSeconds: r.wallMs / 1000,
    // webgpu only (core's size-class pool): the most device memory the run's tensors and the pool held
    ...(r.devicePeak ? { devicePeakInUseMiB: r.devicePeak.peakInUse / 2 ** 20, devicePeakAllocatedMiB: r.devicePeak.peakAllocated / 2 ** 20 } : {}),
    evals: r.evals,
    ...(privacy.thresholds?.kind === 'adaptive' ? { thresholds: groupSeries(r.steps, 'threshold') } : {}),
    ...(Object.keys(noisyClip).length > 0 ? { noisyClipFractions: noisyClip } : {}),
  };
  await writeJsonAtomic(path.join(dir, 'privacy.json'), privacy);
  await writeFileAtomic(path.join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2));
  await writeFileAtomic(path.join(dir, 'report.html'), renderReportHtml(`clipwise train — ${r.config.model} on ${path.basename(r.config.data)}`, reportable(r.steps, rawInReport), r.evals, privacy, metrics));
}
