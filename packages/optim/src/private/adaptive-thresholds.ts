import { nextThresholds, noisyUnclippedFraction, type Grouping, type ResolvedAdaptivePolicy } from '@clipwise/grouping';
import { ClipwiseOptimError } from '../errors';
import { NoiseSource, type NoiseSourceState } from './noise-source';

/** Serialisable state of `AdaptiveThresholds`: with it a resumed run continues exactly. */
export interface AdaptiveThresholdsState {
  /** Group names, in order (checked on resume). */
  readonly groups: readonly string[];
  /** `C_m` for the next step. */
  readonly thresholds: readonly number[];
  /** Position of the count-noise stream (separate from the gradient noise). */
  readonly countNoise: NoiseSourceState;
  /** Count releases so far. */
  readonly steps: number;
}

/** What one step's count release did. */
export interface ThresholdRelease {
  /** The thresholds `C_m` the step clipped with. */
  readonly used: readonly number[];
  /** The released noisy unclipped fractions `b̃_m` (private: they carry count noise). */
  readonly unclippedFractions: readonly number[];
  /** The thresholds for the next step, `C_m·exp(−η (b̃_m − γ))`. */
  readonly next: readonly number[];
}

/**
 * Bounds on a threshold: a group whose norms stay 0 (unused parameters) would shrink its threshold by
 * exp(−η/2) every step until it underflows to 0, which is not a valid threshold.
 */
const THRESHOLD_RANGE = [1e-12, 1e12] as const;

/** Offset between the gradient seed and the count-noise seed, so the two streams never coincide. */
const COUNT_SEED_OFFSET = 0x5f3759df;

/**
 * Per-group quantile clipping (Andrew et al. 2021; per group as He et al. 2022): after each step,
 * release per group `Σ_i (1[n_im ≤ C_m] − ½) + N(0, σ_b²)` — sensitivity `sqrt(M)/2` for the M counts
 * (`countSensitivity` in `@clipwise/grouping` derives it) — turn it into the noisy unclipped fraction
 * `b̃_m` and update `C_m ← C_m·exp(−η (b̃_m − γ))`. The count noise comes from its own `NoiseSource`
 * stream, so a checkpoint (`toJSON`) resumes bit-exactly.
 *
 * The count release is part of the private mechanism: the step's noise multiplier for the accountant
 * is `σ_eff = (σ^-2 + countNoiseMultiplier^-2)^(-1/2)` (see `PrivateGradients.effectiveNoiseMultiplier`).
 *
 * @example
 * const policy = resolveThresholdPolicy({ kind: 'adaptive', targetQuantile: 0.5 }, { groupCount: grouping.groups.length, expectedBatchSize: 64 });
 * const adaptive = new AdaptiveThresholds(policy as ResolvedAdaptivePolicy, grouping, 1);
 * const { next } = await adaptive.release([40, 12], 64); // unclipped counts per group, realised batch size
 * adaptive.grouping.thresholds; // next
 */
export class AdaptiveThresholds {
  private current: Grouping;
  private readonly noise: NoiseSource;
  private steps: number;

  /**
   * @param policy a resolved adaptive policy (`resolveThresholdPolicy`)
   * @param grouping the groups; its thresholds (or `policy.initialThreshold`) are the step-0 `C_m`
   * @param seed the step's seed; the count noise uses a stream derived from it
   * @param state a saved `toJSON()` to resume from
   */
  constructor(
    readonly policy: ResolvedAdaptivePolicy,
    grouping: Grouping,
    seed: number,
    state?: AdaptiveThresholdsState,
  ) {
    const names = grouping.groups.map((g) => g.name);
    if (state) {
      if (JSON.stringify(state.groups) !== JSON.stringify(names)) {
        throw new ClipwiseOptimError(
          `adaptive threshold state is for groups ${JSON.stringify(state.groups)}, but the grouping has ${JSON.stringify(names)}; ` +
            'resume with the grouping the state was saved with.',
        );
      }
      this.current = grouping.withThresholds(state.thresholds);
      this.noise = NoiseSource.fromJSON(state.countNoise);
      this.steps = state.steps;
    } else {
      const c0 = policy.initialThreshold;
      this.current = c0 === undefined ? grouping : grouping.withThresholds(names.map(() => c0));
      this.noise = new NoiseSource(seed + COUNT_SEED_OFFSET);
      this.steps = 0;
    }
  }

  /** The grouping with the thresholds of the next step. */
  get grouping(): Grouping {
    return this.current;
  }

  /**
   * Releases the noisy unclipped fraction of every group and moves the thresholds.
   *
   * @param unclippedCounts per group, the number of samples of the logical batch with `n_im ≤ C_m`
   * @param batchSize the realised logical batch size (the centring `Σ_i (b_im − ½)` needs it; it is
   *   never released, only the noisy centred count is)
   */
  async release(unclippedCounts: readonly number[], batchSize: number): Promise<ThresholdRelease> {
    const M = this.current.groups.length;
    if (unclippedCounts.length !== M) {
      throw new ClipwiseOptimError(`got ${unclippedCounts.length} unclipped count(s) for ${M} group(s); expected one per group`);
    }
    unclippedCounts.forEach((c, m) => {
      if (!Number.isInteger(c) || c < 0 || c > batchSize) {
        throw new ClipwiseOptimError(`unclipped count of group '${this.current.groups[m]!.name}' is ${c}; expected a whole number in [0, ${batchSize}]`);
      }
    });
    const { countNoise, expectedBatchSize, targetQuantile, learningRate } = this.policy;
    const noise = this.noise.hostNormals(M, countNoise);
    const used = [...this.current.thresholds];
    const unclippedFractions = unclippedCounts.map((c, m) => noisyUnclippedFraction(c, batchSize, noise[m]!, expectedBatchSize));
    const next = nextThresholds(used, unclippedFractions, targetQuantile, learningRate).map((c) =>
      Math.min(THRESHOLD_RANGE[1], Math.max(THRESHOLD_RANGE[0], c)),
    );
    this.current = this.current.withThresholds(next);
    this.steps++;
    return { used, unclippedFractions, next };
  }

  toJSON(): AdaptiveThresholdsState {
    return {
      groups: this.current.groups.map((g) => g.name),
      thresholds: [...this.current.thresholds],
      countNoise: this.noise.toJSON(),
      steps: this.steps,
    };
  }
}
