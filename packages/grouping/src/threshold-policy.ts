import { ClipwiseGroupingError } from './errors';

/** Thresholds stay as the grouping was resolved with (default split or explicit values). */
export interface FixedThresholdPolicy {
  readonly kind: 'fixed';
}

/**
 * Thresholds that track a target quantile of each group's per-sample norms (quantile clipping of
 * Andrew et al. 2021, applied per group as in He et al. 2022). Each step releases, per group, the
 * noisy fraction of samples with `n_im ≤ C_m` and moves `C_m` geometrically toward the target.
 */
export interface AdaptiveThresholdPolicy {
  readonly kind: 'adaptive';
  /** γ in (0, 1): the fraction of samples each group should leave unclipped (0.5 = median). */
  readonly targetQuantile: number;
  /** η > 0 of the geometric update `C_m ← C_m·exp(−η (b̃_m − γ))`; default 0.2 (Andrew et al.). */
  readonly learningRate?: number;
  /**
   * σ_b > 0: standard deviation (in samples) of the Gaussian noise on each group's centred count.
   * Default `sqrt(M)·B/20` (B the expected batch size): Andrew et al.'s `B/20` for one count, scaled so
   * that the M counts together cost the same privacy as their single count (see `countSensitivity`).
   */
  readonly countNoise?: number;
  /** `C_m` of every group at step 0; default the grouping's thresholds (`C / sqrt(M)`). */
  readonly initialThreshold?: number;
}

/** How thresholds evolve between steps. */
export type ThresholdPolicy = FixedThresholdPolicy | AdaptiveThresholdPolicy;

/** An adaptive policy with every default filled in and its privacy cost spelt out. */
export interface ResolvedAdaptivePolicy {
  readonly kind: 'adaptive';
  readonly targetQuantile: number;
  readonly learningRate: number;
  /** σ_b, per group, in samples. */
  readonly countNoise: number;
  /** L2 sensitivity of the vector of M centred counts: `sqrt(M)/2`. */
  readonly countSensitivity: number;
  /** σ_b / countSensitivity: the count release's noise multiplier (noise per unit of sensitivity). */
  readonly countNoiseMultiplier: number;
  /** The expected batch size q·N the counts are divided by. */
  readonly expectedBatchSize: number;
  readonly initialThreshold?: number;
}

export type ResolvedThresholdPolicy = FixedThresholdPolicy | ResolvedAdaptivePolicy;

/** Andrew et al.'s learning rate for the geometric update. */
export const DEFAULT_THRESHOLD_LEARNING_RATE = 0.2;

/**
 * L2 sensitivity of the per-group unclipped counts released by an adaptive threshold policy.
 *
 * Derivation. Sample i contributes to group m the bit `b_im = 1[n_im ≤ C_m]`. Released raw, the
 * count vector `(Σ_i b_i1, …, Σ_i b_iM)` changes by `(b_x1, …, b_xM) ∈ {0,1}^M` when sample x is added
 * or removed, so its L2 sensitivity is `sqrt(M)` (all groups unclipped). Andrew et al. centre the bit:
 * we release `Σ_i (b_im − ½) + N(0, σ_b²)` per group and add back `½·B` for the public expected batch
 * size B afterwards (post-processing). A sample now moves each coordinate by exactly ±½, so the
 * sensitivity is `sqrt(M)/2` — half the raw one, for the same noise. With σ_b on every coordinate this
 * is a Gaussian mechanism of noise multiplier `σ_b / (sqrt(M)/2) = 2σ_b/sqrt(M)`. Releasing the M
 * counts "jointly scaled" (each centred bit times `1/sqrt(M)`, so sensitivity ½ overall) is the same
 * mechanism with noise `σ_b/sqrt(M)` on the scaled counts: only this ratio matters, which is why the
 * default σ_b grows as `sqrt(M)`.
 *
 * The counts and the noisy gradient are computed on the same Poisson batch, so together they are one
 * Gaussian mechanism whose noise multiplier is `σ_eff = (σ^-2 + (2σ_b/sqrt(M))^-2)^(-1/2)` (Andrew et
 * al. 2021, Theorem 1, for M = 1); the accountant must be given σ_eff (`@clipwise/accountant`'s
 * `gradientNoiseMultiplier` solves for σ).
 *
 * @example
 * countSensitivity(1); // 0.5
 * countSensitivity(4); // 1
 */
export function countSensitivity(groupCount: number): number {
  if (!Number.isInteger(groupCount) || groupCount < 1) {
    throw new ClipwiseGroupingError(`group count is ${String(groupCount)}; expected a whole number ≥ 1.`);
  }
  return Math.sqrt(groupCount) / 2;
}

/**
 * Checks a threshold policy (it may come from untyped config) and fills in its defaults for a grouping
 * of `groupCount` groups trained with expected batch size `expectedBatchSize`.
 *
 * @example
 * const p = resolveThresholdPolicy({ kind: 'adaptive', targetQuantile: 0.5 }, { groupCount: 4, expectedBatchSize: 256 });
 * p.kind === 'adaptive' && p.countNoise; // sqrt(4)·256/20 = 25.6
 */
export function resolveThresholdPolicy(
  policy: ThresholdPolicy | undefined,
  context: { readonly groupCount: number; readonly expectedBatchSize: number },
): ResolvedThresholdPolicy {
  if (policy === undefined) return { kind: 'fixed' };
  if (typeof policy !== 'object' || policy === null) {
    throw new ClipwiseGroupingError(
      `threshold policy is ${JSON.stringify(policy)}; expected { kind: 'fixed' } or { kind: 'adaptive', targetQuantile: 0.5 }.`,
    );
  }
  if (policy.kind === 'fixed') return { kind: 'fixed' };
  if (policy.kind !== 'adaptive') {
    throw new ClipwiseGroupingError(
      `threshold policy kind is ${JSON.stringify((policy as { kind?: unknown }).kind)}; expected 'fixed' or 'adaptive'.`,
    );
  }
  const { groupCount, expectedBatchSize } = context;
  if (!(expectedBatchSize > 0) || !Number.isFinite(expectedBatchSize)) {
    throw new ClipwiseGroupingError(`expectedBatchSize is ${String(expectedBatchSize)}; expected a finite number > 0 (q·N).`);
  }
  const gamma = policy.targetQuantile;
  if (typeof gamma !== 'number' || !(gamma > 0 && gamma < 1)) {
    throw new ClipwiseGroupingError(
      `targetQuantile γ is ${String(gamma)}; expected a number strictly between 0 and 1 (the fraction of samples to leave ` +
        'unclipped, e.g. 0.5 for the median norm).',
    );
  }
  const eta = policy.learningRate ?? DEFAULT_THRESHOLD_LEARNING_RATE;
  if (typeof eta !== 'number' || !(eta > 0) || !Number.isFinite(eta)) {
    throw new ClipwiseGroupingError(`learningRate η is ${String(eta)}; expected a finite number > 0 (Andrew et al. use 0.2).`);
  }
  const sensitivity = countSensitivity(groupCount);
  const countNoise = policy.countNoise ?? (Math.sqrt(groupCount) * expectedBatchSize) / 20;
  if (typeof countNoise !== 'number' || !(countNoise > 0) || !Number.isFinite(countNoise)) {
    throw new ClipwiseGroupingError(
      `countNoise σ_b is ${String(countNoise)}; expected a finite number > 0: the count release must be noisy to be private ` +
        `(default sqrt(M)·B/20 = ${((Math.sqrt(groupCount) * expectedBatchSize) / 20).toPrecision(4)}).`,
    );
  }
  const c0 = policy.initialThreshold;
  if (c0 !== undefined && (typeof c0 !== 'number' || !(c0 > 0) || !Number.isFinite(c0))) {
    throw new ClipwiseGroupingError(`initialThreshold is ${String(c0)}; expected a finite number > 0 (C_m of every group at step 0).`);
  }
  return {
    kind: 'adaptive',
    targetQuantile: gamma,
    learningRate: eta,
    countNoise,
    countSensitivity: sensitivity,
    countNoiseMultiplier: countNoise / sensitivity,
    expectedBatchSize,
    ...(c0 !== undefined ? { initialThreshold: c0 } : {}),
  };
}

/**
 * The unclipped fraction `b̃_m` estimated from one group's released centred count: the release is
 * `Σ_i (b_im − ½) + ξ = count − batchSize/2 + ξ`; adding back `½·B` and dividing by the expected batch
 * size B (public; never the realised size, which is private under Poisson sampling) gives
 * `b̃ = (count − batchSize/2 + ξ)/B + ½`, unbiased for the fraction since E[batchSize] = B.
 */
export function noisyUnclippedFraction(count: number, batchSize: number, noise: number, expectedBatchSize: number): number {
  return (count - batchSize / 2 + noise) / expectedBatchSize + 0.5;
}

/**
 * The geometric quantile update of Andrew et al. (2021, eq. (3)): `C ← C·exp(−η (b̃ − γ))`. When more
 * than a γ fraction of samples is under the threshold it shrinks, otherwise it grows; the fixed point
 * in expectation is the γ-quantile of the norms. Per group, so each group tracks its own quantile.
 *
 * @example
 * nextThresholds([1, 1], [0.7, 0.3], 0.5, 0.2); // [exp(-0.04), exp(0.04)]
 */
export function nextThresholds(
  thresholds: readonly number[],
  unclippedFractions: readonly number[],
  targetQuantile: number,
  learningRate: number,
): number[] {
  if (unclippedFractions.length !== thresholds.length) {
    throw new ClipwiseGroupingError(
      `got ${unclippedFractions.length} unclipped fraction(s) for ${thresholds.length} threshold(s); expected one per group.`,
    );
  }
  return thresholds.map((c, m) => c * Math.exp(-learningRate * (unclippedFractions[m]! - targetQuantile)));
}
