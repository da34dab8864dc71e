import { SHUFFLE_CAVEAT } from '@clipwise/accountant';
import type { Grouping } from '@clipwise/grouping';

/**
 * How the per-group thresholds moved. With 'adaptive' the noisy per-group counts are part of the
 * mechanism: `noiseMultiplier` of the report is the whole step's σ_eff, and the gradient alone got
 * `gradientNoiseMultiplier` (σ_eff^-2 = σ^-2 + countNoiseMultiplier^-2).
 */
export type ThresholdReport =
  | { kind: 'fixed' }
  | {
    kind: 'adaptive';
    targetQuantile: number;
    learningRate: number;
    /** σ_b: noise std on each group's centred unclipped count. */
    countNoise: number;
    /** L2 sensitivity of the M centred counts, sqrt(M)/2. */
    countSensitivity: number;
    countNoiseMultiplier: number;
    gradientNoiseMultiplier: number;
    initialThresholds: number[];
    finalThresholds: number[];
  };

/** OUT/report/privacy.json: the exact privacy statement of a run. */
export interface PrivacyReport {
  private: boolean;
  /** ε spent (the accountant's upper bound) at `delta`; null for --no-dp. */
  epsilon: number | null;
  delta: number | null;
  /** The target ε of --epsilon, if any. */
  targetEpsilon: number | null;
  accountant: string | null;
  /** Poisson sampling rate q = B/N (for shuffle: the batch fraction used as q). */
  sampleRate: number;
  expectedBatchSize: number;
  datasetSize: number;
  /** The whole step's noise multiplier, as accounted (σ_eff with adaptive thresholds). */
  noiseMultiplier: number | null;
  steps: number;
  sampling: 'poisson' | 'shuffle';
  caveats: string[];
  /** Threshold policy (null for --no-dp). */
  thresholds: ThresholdReport | null;
  clipping: { fn: 'abadi' | 'automatic'; clipNorm: number; gamma?: number };
  grouping: { spec: string; strategy: string; sensitivity: number; groups: { name: string; threshold: number; params: string[] }[] };
  /** Choices made with the private data that the (ε, δ) statement does not cover. */
  nonPrivateChoices: string[];
  stoppedAtBudget: boolean;
  statement: string;
}

export type PrivacyReportInput = Pick<
  PrivacyReport,
  'epsilon' | 'targetEpsilon' | 'sampleRate' | 'expectedBatchSize' | 'datasetSize' | 'noiseMultiplier' | 'steps' | 'sampling' | 'stoppedAtBudget'
> & {
  noDp: boolean;
  delta: number;
  accountant: string;
  accountantCaveats: string[];
  clippingFn: 'abadi' | 'automatic';
  groupingSpec: string;
  grouping: Grouping;
  tokenizer?: string;
  thresholds?: ThresholdReport | null;
};

export function privacyReport(i: PrivacyReportInput): PrivacyReport {
  const nonPrivateChoices =
    i.tokenizer === 'word'
      ? ['--tokenizer word: the vocabulary was fitted on the training data and is NOT covered by the (ε, δ) guarantee (it can reveal which words occur in the data); use --tokenizer gpt2 or byte for a fully private run.']
      : [];
  const caveats = [...new Set([...(i.sampling === 'shuffle' && !i.noDp ? [SHUFFLE_CAVEAT] : []), ...i.accountantCaveats])];
  const groups = i.grouping.groups.map((g) => ({ name: g.name, threshold: g.threshold, params: [...g.params] }));
  const clipping = { fn: i.clippingFn, clipNorm: i.grouping.clipNorm, ...(i.clippingFn === 'automatic' ? { gamma: 0.01 } : {}) };
  let statement: string;
  if (i.noDp) {
    statement = `NOT PRIVATE: trained with --no-dp (no clipping, no noise); no differential-privacy guarantee. ${i.steps} steps, ${i.sampling} sampling, batch ${i.expectedBatchSize} of ${i.datasetSize}.`;
  } else {
    statement =
      `(ε = ${i.epsilon!.toFixed(4)}, δ = ${i.delta})-differential privacy (example-level, add/remove one training example) ` +
      `by the ${i.accountant.toUpperCase()} accountant for ${i.steps} steps of DP-SGD with ${i.sampling} sampling at q = ${i.sampleRate.toPrecision(6)} ` +
      `(expected batch ${i.expectedBatchSize} of ${i.datasetSize}), noise multiplier σ = ${i.noiseMultiplier!.toPrecision(6)}, ` +
      `${i.clippingFn} clipping with overall norm C = ${i.grouping.clipNorm} over ${groups.length} group(s) ('${i.groupingSpec}', ${i.thresholds?.kind === 'adaptive' ? 'initial ' : ''}sensitivity ${i.grouping.sensitivity.toPrecision(6)}, ` +
      thresholdsText(i.thresholds, groups) +
      (i.stoppedAtBudget ? ` Training stopped early: one more step would have exceeded the target ε = ${i.targetEpsilon}.` : '') +
      (caveats.length ? `\nCaveats: ${caveats.join(' ')}` : '') +
      (nonPrivateChoices.length ? `\nNot covered: ${nonPrivateChoices.join(' ')}` : '');
  }
  return {
    private: !i.noDp,
    epsilon: i.noDp ? null : i.epsilon,
    delta: i.noDp ? null : i.delta,
    targetEpsilon: i.targetEpsilon,
    accountant: i.noDp ? null : i.accountant,
    sampleRate: i.sampleRate,
    expectedBatchSize: i.expectedBatchSize,
    datasetSize: i.datasetSize,
    noiseMultiplier: i.noiseMultiplier,
    steps: i.steps,
    sampling: i.sampling,
    caveats,
    thresholds: i.noDp ? null : (i.thresholds ?? { kind: 'fixed' }),
    clipping,
    grouping: { spec: i.groupingSpec, strategy: i.grouping.strategy, sensitivity: i.grouping.sensitivity, groups },
    nonPrivateChoices,
    stoppedAtBudget: i.stoppedAtBudget,
    statement,
  };
}

function thresholdsText(t: ThresholdReport | null | undefined, groups: { threshold: number }[]): string {
  if (!t || t.kind === 'fixed') return `thresholds ${[...new Set(groups.map((g) => g.threshold.toPrecision(4)))].join(', ')}).`;
  return (
    `adaptive thresholds starting at ${[...new Set(t.initialThresholds.map((c) => c.toPrecision(4)))].join(', ')} that track the ${t.targetQuantile} quantile of each group's norms ` +
    `(η = ${t.learningRate}); each step also released every group's unclipped count with Gaussian noise σ_b = ${t.countNoise.toPrecision(4)} ` +
    `(count sensitivity ${t.countSensitivity.toPrecision(4)}), so the noise multiplier σ above is the whole step's: ` +
    `the gradient's σ = ${t.gradientNoiseMultiplier.toPrecision(6)} composed with the counts' σ_b/sensitivity = ${t.countNoiseMultiplier.toPrecision(6)}).`
  );
}
