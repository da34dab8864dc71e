import { countSensitivity, noisyUnclippedFraction } from '@clipwise/grouping';
import { ClipwiseOptimError } from '../errors';
import { NoiseSource, type NoiseSourceState } from './noise-source';

/** Serialisable state of `NoisyClipCounts`: with it a resumed run draws the same count noise. */
export interface NoisyClipCountsState {
  /** Group names, in order (checked on resume). */
  readonly groups: readonly string[];
  /** Position of the clip-count noise stream (separate from the gradient and threshold streams). */
  readonly countNoise: NoiseSourceState;
  /** Count releases so far. */
  readonly steps: number;
}

/** Offset between the gradient seed and the clip-count seed; differs from the adaptive thresholds' offset. */
const CLIP_COUNT_SEED_OFFSET = 0x2545f491;

/**
 * Private diagnostics: each step, release per group the centred clipped count
 * `Σ_i (1[n_im > C_m] − ½) + N(0, σ_c²)` and report the noisy clip fraction `(… + B/2)/B` (B the
 * public expected batch size). It is the release of adaptive thresholds (Andrew et al. 2021) with the
 * complementary bit, so the same analysis holds: L2 sensitivity `sqrt(M)/2` for M groups
 * (`countSensitivity`), noise multiplier `σ_c / (sqrt(M)/2)`, and with the gradient one Gaussian
 * mechanism of `σ_eff = (σ^-2 + (σ_c/Δ)^-2)^(-1/2)` (see `PrivateGradients.effectiveNoiseMultiplier`).
 * The noise comes from its own `NoiseSource` stream, so a checkpoint (`toJSON`) resumes exactly.
 *
 * With adaptive thresholds this release is not needed: their noisy unclipped fractions already give
 * the clip fractions (`1 − b̃_m`) at no further privacy cost.
 *
 * @example
 * const counts = new NoisyClipCounts(['layer-0', 'layer-1'], 6.4, 64, 1);
 * counts.release([10, 3], 61); // noisy clip fractions, e.g. [0.14, 0.06]
 */
export class NoisyClipCounts {
  private readonly noise: NoiseSource;
  private steps: number;
  /** L2 sensitivity of the M centred counts, `sqrt(M)/2`. */
  readonly sensitivity: number;

  /**
   * @param groups the group names, in order
   * @param countNoise σ_c > 0, the noise std (in samples) on each group's centred count
   * @param expectedBatchSize q·N, the public batch size the counts are divided by
   * @param seed the step's seed; the count noise uses a stream derived from it
   * @param state a saved `toJSON()` to resume from
   */
  constructor(
    readonly groups: readonly string[],
    readonly countNoise: number,
    readonly expectedBatchSize: number,
    seed: number,
    state?: NoisyClipCountsState,
  ) {
    if (!(countNoise > 0) || !Number.isFinite(countNoise)) {
      throw new ClipwiseOptimError(`clip-count noise σ_c is ${countNoise}; expected a finite number > 0: the counts must be noisy to be private.`);
    }
    this.sensitivity = countSensitivity(groups.length);
    if (state) {
      if (JSON.stringify(state.groups) !== JSON.stringify(groups)) {
        throw new ClipwiseOptimError(
          `clip-count state is for groups ${JSON.stringify(state.groups)}, but the grouping has ${JSON.stringify(groups)}; ` +
            'resume with the grouping the state was saved with.',
        );
      }
      this.noise = NoiseSource.fromJSON(state.countNoise);
      this.steps = state.steps;
    } else {
      this.noise = new NoiseSource(seed + CLIP_COUNT_SEED_OFFSET);
      this.steps = 0;
    }
  }

  /** σ_c / sensitivity: the release's noise multiplier. */
  get noiseMultiplier(): number {
    return this.countNoise / this.sensitivity;
  }

  /**
   * Releases every group's noisy clip fraction.
   *
   * @param clippedCounts per group, the number of samples of the logical batch with `n_im > C_m`
   * @param batchSize the realised logical batch size (used for the centring only, never released)
   */
  release(clippedCounts: readonly number[], batchSize: number): number[] {
    const M = this.groups.length;
    if (clippedCounts.length !== M) throw new ClipwiseOptimError(`got ${clippedCounts.length} clipped count(s) for ${M} group(s); expected one per group`);
    clippedCounts.forEach((c, m) => {
      if (!Number.isInteger(c) || c < 0 || c > batchSize) {
        throw new ClipwiseOptimError(`clipped count of group '${this.groups[m]}' is ${c}; expected a whole number in [0, ${batchSize}]`);
      }
    });
    const noise = this.noise.hostNormals(M, this.countNoise);
    this.steps++;
    // the centred release of a count of bits and its debiasing are the same for clipped as for unclipped bits
    return clippedCounts.map((c, m) => noisyUnclippedFraction(c, batchSize, noise[m]!, this.expectedBatchSize));
  }

  toJSON(): NoisyClipCountsState {
    return { groups: [...this.groups], countNoise: this.noise.toJSON(), steps: this.steps };
  }
}
