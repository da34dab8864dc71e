export { ClipwiseGroupingError } from './errors';
export type {
  Group,
  GroupDraft,
  Grouping,
  GroupingSnapshot,
  GroupingSpec,
  GroupingSpecObject,
  GroupingStrategy,
  GroupingStrategyOptions,
  NoOptions,
  ResolveGroupingOptions,
  ThresholdInput,
} from './types';
export {
  registerGroupingStrategy,
  unregisterGroupingStrategy,
  getGroupingStrategy,
  listGroupingStrategies,
  type RegisterGroupingStrategyOptions,
} from './registry';
export { parseGroupingSpec } from './parse-grouping-spec';
export { resolveGrouping } from './resolve-grouping';
export { equalSplit, totalSensitivity } from './thresholds';
export {
  countSensitivity,
  resolveThresholdPolicy,
  noisyUnclippedFraction,
  nextThresholds,
  DEFAULT_THRESHOLD_LEARNING_RATE,
  type ThresholdPolicy,
  type FixedThresholdPolicy,
  type AdaptiveThresholdPolicy,
  type ResolvedThresholdPolicy,
  type ResolvedAdaptivePolicy,
} from './threshold-policy';
export { partitionContiguous } from './contiguous-partition';
export { layerBlocks, type LayerBlock } from './forward-order';
export { rejectUnknownOptions, checkGroupCount, parseGroupCount } from './option-checks';
export { allLayer } from './strategies/all-layer';
export { layerWise } from './strategies/layer-wise';
export { paramWise } from './strategies/param-wise';
export { uniform, type UniformOptions } from './strategies/uniform';
export { nonUniform, type NonUniformOptions } from './strategies/non-uniform';
export { balanced, type BalancedOptions } from './strategies/balanced';
export { perDevice } from './strategies/per-device';
