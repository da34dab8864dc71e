import type { RngState } from './rng.js';

/** How a sampler forms logical batches; the privacy accountant must be told which one was used. */
export type SamplingKind = 'poisson' | 'shuffle';

/** Serialised {@link PoissonSampler}. */
export interface PoissonSamplerState {
  readonly sampling: 'poisson';
  readonly datasetSize: number;
  readonly sampleRate: number;
  readonly seed: number;
  /** Number of batches drawn so far. */
  readonly step: number;
  readonly rng: RngState;
}

/** Serialised {@link ShuffleSampler}. */
export interface ShuffleSamplerState {
  readonly sampling: 'shuffle';
  readonly datasetSize: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly step: number;
  /** Epochs started so far (the current one included). */
  readonly epoch: number;
  /** Batches already served from the current epoch. */
  readonly batchInEpoch: number;
  /** Generator state just before the current epoch's permutation was drawn; null before the first batch. */
  readonly epochRng: RngState | null;
  /** Generator state used to start the next epoch when no epoch is in progress. */
  readonly rng: RngState;
}

/** What the trainer needs from any sampler of dataset indices. */
export interface BatchSampler {
  /** 'poisson' or 'shuffle'; pass it to the accountant. */
  readonly sampling: SamplingKind;
  readonly datasetSize: number;
  /** Poisson: q. Shuffle: batchSize / datasetSize (used as q by an accountant that accepts the approximation). */
  readonly sampleRate: number;
  /** Poisson: q·N (the denominator DP-SGD must divide the noisy sum by). Shuffle: the fixed batch size. */
  readonly expectedBatchSize: number;
  /** Batches drawn so far. */
  readonly step: number;
  /** Indices of the next logical batch, ascending for Poisson, permutation order for shuffle. */
  nextBatch(): Int32Array;
  /** Splits a logical batch into micro-batches of at most `maxPhysicalBatchSize` indices. */
  physicalBatches(batch: Int32Array, maxPhysicalBatchSize: number): Int32Array[];
  /** JSON-safe state; the matching `fromJSON` resumes the identical stream of batches. */
  toJSON(): PoissonSamplerState | ShuffleSamplerState;
}
