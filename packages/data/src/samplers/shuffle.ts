import { ClipwiseDataError, assertInteger } from '../errors.js';
import { splitPhysicalBatches } from './physical-batches.js';
import { SeededRng, type RngState } from './rng.js';
import type { BatchSampler, ShuffleSamplerState } from './types.js';

/** Options of {@link ShuffleSampler}. */
export interface ShuffleSamplerOptions {
  readonly datasetSize: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Drop the last, smaller batch of each epoch (default true, so every batch has `batchSize`). */
  readonly dropLast?: boolean;
}

/**
 * Shuffle-and-partition sampling: each epoch draws a fresh random permutation and serves it in
 * consecutive batches of `batchSize`, so every index appears exactly once per epoch (less the
 * dropped remainder with `dropLast`).
 *
 * Privacy caveat: the Poisson-subsampled analysis used by the accountant does not strictly cover
 * shuffling (fixed-size batches, sampling without replacement); reporting its ε for this sampler is
 * a common but unproven approximation (see Chua et al., "How Private are DP-SGD Implementations?",
 * 2024, who show the gap can be real). Use {@link PoissonSampler} for a guarantee; this sampler is
 * labelled `sampling: 'shuffle'` so reports can say which was used.
 *
 * @example
 * ```ts
 * const sampler = new ShuffleSampler({ datasetSize: 1000, batchSize: 100, seed: 7 });
 * for (let i = 0; i < sampler.stepsPerEpoch; i++) train(sampler.nextBatch());
 * ```
 */
export class ShuffleSampler implements BatchSampler {
  readonly sampling = 'shuffle' as const;
  readonly datasetSize: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly dropLast: boolean;
  private rng: SeededRng;
  private epochRng: RngState | null = null;
  private permutation: Int32Array | null = null;
  private steps = 0;
  private epochs = 0;
  private batchInEpoch = 0;

  constructor(options: ShuffleSamplerOptions) {
    assertInteger(options.datasetSize, 'ShuffleSampler datasetSize', 1, 2 ** 31 - 1);
    assertInteger(options.batchSize, 'ShuffleSampler batchSize', 1);
    assertInteger(options.seed, 'ShuffleSampler seed', 0);
    this.dropLast = options.dropLast ?? true;
    if (this.dropLast && options.batchSize > options.datasetSize) {
      throw new ClipwiseDataError(
        `ShuffleSampler batchSize ${options.batchSize} exceeds datasetSize ${options.datasetSize} with dropLast: ` +
          `no full batch exists; lower batchSize or pass dropLast: false.`,
      );
    }
    this.datasetSize = options.datasetSize;
    this.batchSize = options.batchSize;
    this.seed = options.seed;
    this.rng = SeededRng.fromSeed(options.seed);
  }

  /** Number of batches in one epoch. */
  get stepsPerEpoch(): number {
    return this.dropLast ? Math.floor(this.datasetSize / this.batchSize) : Math.ceil(this.datasetSize / this.batchSize);
  }

  /** batchSize / datasetSize. */
  get sampleRate(): number {
    return this.batchSize / this.datasetSize;
  }

  /** The fixed batch size (the last batch of an epoch may be smaller when dropLast is false). */
  get expectedBatchSize(): number {
    return this.batchSize;
  }

  get step(): number {
    return this.steps;
  }

  /** Epochs started so far. */
  get epoch(): number {
    return this.epochs;
  }

  /** Next batch: a slice of the current epoch's permutation (a copy). */
  nextBatch(): Int32Array {
    if (this.permutation === null || this.batchInEpoch >= this.stepsPerEpoch) {
      this.epochRng = this.rng.state();
      this.permutation = this.rng.permutation(this.datasetSize);
      this.epochs++;
      this.batchInEpoch = 0;
    }
    const start = this.batchInEpoch * this.batchSize;
    const batch = this.permutation.slice(start, Math.min(this.datasetSize, start + this.batchSize));
    this.batchInEpoch++;
    this.steps++;
    return batch;
  }

  physicalBatches(batch: Int32Array, maxPhysicalBatchSize: number): Int32Array[] {
    return splitPhysicalBatches(batch, maxPhysicalBatchSize);
  }

  toJSON(): ShuffleSamplerState {
    return {
      sampling: 'shuffle',
      datasetSize: this.datasetSize,
      batchSize: this.batchSize,
      seed: this.seed,
      dropLast: this.dropLast,
      step: this.steps,
      epoch: this.epochs,
      batchInEpoch: this.batchInEpoch,
      epochRng: this.epochRng,
      rng: this.rng.state(),
    };
  }

  /** Resumes a sampler saved with {@link ShuffleSampler.toJSON}; the permutation is redrawn from `epochRng`. */
  static fromJSON(state: ShuffleSamplerState): ShuffleSampler {
    if (state?.sampling !== 'shuffle') {
      throw new ClipwiseDataError(
        `ShuffleSampler.fromJSON got sampling ${JSON.stringify(state?.sampling)}; expected 'shuffle'. ` +
          `Restore a Poisson sampler state with PoissonSampler.fromJSON.`,
      );
    }
    const sampler = new ShuffleSampler(state);
    assertInteger(state.step, 'ShuffleSampler state step', 0);
    assertInteger(state.epoch, 'ShuffleSampler state epoch', 0);
    assertInteger(state.batchInEpoch, 'ShuffleSampler state batchInEpoch', 0, sampler.stepsPerEpoch);
    sampler.steps = state.step;
    sampler.epochs = state.epoch;
    sampler.batchInEpoch = state.batchInEpoch;
    if (state.epochRng !== null) {
      const replay = SeededRng.fromState(state.epochRng);
      sampler.permutation = replay.permutation(sampler.datasetSize);
      sampler.epochRng = state.epochRng;
    }
    sampler.rng = SeededRng.fromState(state.rng);
    return sampler;
  }
}
