import { SHUFFLE_CAVEAT } from '@clipwise/accountant';
import { formatEpsilon, formatSmall } from './format-number';
import type { Grouping } from '@clipwise/grouping';
import type { PrivateRelease } from '@clipwise/optim';
import type { DiagnosticsMode } from '../train/train-config';

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

/** One quantity each step releases through the accountant, with the noise that protects it. */
export interface ReleaseReport extends PrivateRelease {
  /** What it is, in words. */
  description: string;
}

/** The trainable subset of a run, as the report states it. */
export interface TrainedReport {
  /** `all`, `bias`, `last:K`, prefixes, or `lora r=.. α=.. on ..`. */
  mode: string;
  trainedParameters: number;
  /** The model's parameters (and the adapters'), trained or frozen. */
  totalParameters: number;
  /** Names of the trained tensors (LoRA: peft names). */
  tensors: string[];
}

/** What the (ε, δ) guarantee covers and what it does not, as plain sentences. */
export interface Coverage {
  covered: string[];
  notCovered: string[];
}

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
  /**
   * What trained (--trainable, --lora-rank): the gradient, its clipping and its noise cover these
   * tensors only; every other parameter kept its starting value bit for bit.
   */
  trained: TrainedReport;
  /** Choices made with the private data that the (ε, δ) statement does not cover. */
  nonPrivateChoices: string[];
  /** `--diagnostics`: what the run released about training besides the model. */
  diagnostics: DiagnosticsMode;
  /**
   * Every quantity released each step through the accountant (empty for --no-dp): together one
   * Gaussian mechanism, `noiseMultiplier^-2 = Σ releases[i].noiseMultiplier^-2`.
   */
  releases: ReleaseReport[];
  coverage: Coverage;
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
  diagnostics: DiagnosticsMode;
  /** The private step's releases (`PrivateGradients.releases`); empty for --no-dp. */
  releases: readonly PrivateRelease[];
  /** Whether the run evaluated on evaluation data (its metrics are in the report). */
  evaluated: boolean;
  trained: TrainedReport;
};

const RELEASE_TEXT: Record<PrivateRelease['quantity'], string> = {
  gradient: "the clipped, summed gradient of each logical batch (sensitivity S = sqrt(Σ_m C_m²) of the step's thresholds); the model weights and checkpoints follow from it",
  'threshold-counts': "each group's centred count of unclipped samples (adaptive thresholds; sensitivity sqrt(M)/2); the thresholds C_m and the clip fractions 1 − b̃_m follow from it",
  'clip-counts': "each group's centred count of clipped samples (--diagnostics private; sensitivity sqrt(M)/2): the clip fractions in the report",
};

/** The covered and not-covered lists of a run (see `PrivacyReport.coverage`). */
function coverage(i: PrivacyReportInput, nonPrivateChoices: string[]): Coverage {
  const rawLog = i.diagnostics === 'raw' && !i.noDp
    ? ['Raw training diagnostics (--diagnostics raw): the exact training loss and, per group, clip fraction, median and max per-sample norm of every step, computed from the training batches without noise. They are NOT PRIVATE: they are in the local log.jsonl only (records marked "diagnostics": "raw"), not in this report; do not publish that file.']
    : [];
  const evalText = i.evaluated
    ? ['Evaluation metrics (loss, perplexity, accuracy, BLEU/ROUGE-L and generated samples): computed on the evaluation data without noise. The guarantee protects the training examples only: the evaluation examples are not protected, so publish these numbers only where the evaluation data may be.']
    : [];
  const unaccounted = ['The training set size N, the realised batch sizes and the step times (which follow them): not released through the accountant.'];
  if (i.noDp) {
    return {
      covered: [],
      notCovered: ['Everything: the run has no differential-privacy guarantee (--no-dp). The model weights, the training loss and every other number in this report come from the training data without noise.', ...evalText],
    };
  }
  const covered = [
    'The model weights after every step, and so every checkpoint and anything computed from the model: released through the noisy gradient.',
    ...(i.releases.some((r) => r.quantity === 'threshold-counts') ? ["The adaptive thresholds C_m and the noisy per-group unclipped counts that moved them (each step's count release)."] : []),
    ...(i.diagnostics !== 'off' && i.releases.some((r) => r.quantity !== 'gradient')
      ? ['The per-group clip fractions in this report: noisy counts released through the accountant (no exact clip fraction, norm or training loss is reported).']
      : []),
    'The ε over steps: it follows from the noise multipliers, the sampling rate and the step count, which are fixed before training.',
    `Everything above is accounted together: one ε = ${formatEpsilon(i.epsilon!)} at δ = ${formatSmall(i.delta!)} covers all the releases listed in "releases".`,
  ];
  return { covered, notCovered: [...rawLog, ...evalText, ...unaccounted, ...nonPrivateChoices] };
}

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
      trainedText(i.trained) +
      clipCountsText(i.releases) +
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
    diagnostics: i.diagnostics,
    releases: i.releases.map((r) => ({ ...r, description: RELEASE_TEXT[r.quantity] })),
    coverage: coverage(i, nonPrivateChoices),
    clipping,
    grouping: { spec: i.groupingSpec, strategy: i.grouping.strategy, sensitivity: i.grouping.sensitivity, groups },
    trained: i.trained,
    nonPrivateChoices,
    stoppedAtBudget: i.stoppedAtBudget,
    statement,
  };
}

/** The trained subset, when not the whole model: the guarantee is about those tensors; the rest stayed as loaded. */
function trainedText(t: TrainedReport): string {
  if (t.mode === 'all') return '';
  return ` Trained: ${t.mode}, ${t.trainedParameters.toLocaleString('en')} of ${t.totalParameters.toLocaleString('en')} parameters (${t.tensors.length} tensors); every other parameter was frozen at its starting value.`;
}

function clipCountsText(releases: readonly PrivateRelease[]): string {
  const c = releases.find((r) => r.quantity === 'clip-counts');
  const g = releases.find((r) => r.quantity === 'gradient');
  if (!c || !g) return '';
  return (
    ` Each step also released every group's clipped count (private diagnostics) with Gaussian noise σ_c = ${c.noiseStd.toPrecision(4)} ` +
    `(count sensitivity ${c.sensitivity.toPrecision(4)}), so the noise multiplier σ above is the whole step's: the gradient's σ = ${g.noiseMultiplier.toPrecision(6)} ` +
    `composed with the counts' σ_c/sensitivity = ${c.noiseMultiplier.toPrecision(6)}.`
  );
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
