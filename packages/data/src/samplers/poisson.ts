import { ClipwiseDataError, assertInteger } from '../errors.js';
import { splitPhysicalBatches } from './physical-batches.js';
import { SeededRng } from './rng.js';
import type { BatchSampler, PoissonSamplerState } from './types.js';

/** Options of {@link PoissonSampler}. */
export interface PoissonSamplerOptions {
  /** N, the number of examples. */
  readonly datasetSize: number;
  /** q in (0, 1]: probability that each example is in a given batch. */
  readonly sampleRate: number;
  /** Non-negative integer seed. */
  readonly seed: number;
}

/**
 * Poisson sampling: every step includes each index independently with probability q, so the
 * realised batch size is Binomial(N, q) (mean q·N, variance q·N·(1−q), and it can be 0). This is the
 * sampling that the RDP / PRV analysis of DP-SGD assumes (Abadi et al. 2016; Mironov, Talwar & Zhang,
 * "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019). Divide the noisy gradient
 * sum by {@link PoissonSampler.expectedBatchSize}, not by the realised size.
 *
 * Each step costs O(q·N) draws: gaps between included indices are drawn as Geometric(q) variables,
 * G = ⌊ln U / ln(1−q)⌋ with U uniform in (0, 1], which gives exactly independent Bernoulli(q)
 * inclusions.
 *
 * @example
 * ```ts
 * const sampler = new PoissonSampler({ datasetSize: 50_000, sampleRate: 256 / 50_000, seed: 1 });
 * const batch = sampler.nextBatch();            // ascending indices, ~256 of them
 * for (const micro of sampler.physicalBatches(batch, 64)) { ... }
 * const saved = JSON.stringify(sampler.toJSON());
 * const resumed = PoissonSampler.fromJSON(JSON.parse(saved)); // same next batches
 * ```
 */
export class PoissonSampler implements BatchSampler {
  readonly sampling = 'poisson' as const;
  readonly datasetSize: number;
  readonly sampleRate: number;
  readonly seed: number;
  private rng: SeededRng;
  private steps = 0;

  constructor(options: PoissonSamplerOptions) {
    assertInteger(options.datasetSize, 'PoissonSampler datasetSize', 1, 2 ** 31 - 1);
    if (!(options.sampleRate > 0 && options.sampleRate <= 1)) {
      throw new ClipwiseDataError(
        `PoissonSampler sampleRate must be in (0, 1], got ${String(options.sampleRate)}; ` +
          `use expectedBatchSize / datasetSize (e.g. 256 / ${options.datasetSize}).`,
      );
    }
    assertInteger(options.seed, 'PoissonSampler seed', 0);
    this.datasetSize = options.datasetSize;
    this.sampleRate = options.sampleRate;
    this.seed = options.seed;
    this.rng = SeededRng.fromSeed(options.seed);
  }

  /** q·N. */
  get expectedBatchSize(): number {
    return this.sampleRate * this.datasetSize;
  }

  get step(): number {
    return this.steps;
  }

  /** Indices of the next batch, ascending; possibly empty. */
  nextBatch(): Int32Array {
    this.steps++;
    const n = this.datasetSize;
    if (this.sampleRate === 1) {
      const all = new Int32Array(n);
      for (let i = 0; i < n; i++) all[i] = i;
      return all;
    }
    const logOneMinusQ = Math.log1p(-this.sampleRate);
    const picked: number[] = [];
    let index = -1;
    for (;;) {
      const u = 1 - this.rng.uniform(); // (0, 1]
      index += Math.floor(Math.log(u) / logOneMinusQ) + 1;
      if (index >= n) break;
      picked.push(index);
    }
    return Int32Array.from(picked);
  }

  physicalBatches(batch: Int32Array, maxPhysicalBatchSize: number): Int32Array[] {
    return splitPhysicalBatches(batch, maxPhysicalBatchSize);
  }

  toJSON(): PoissonSamplerState {
    return {
      sampling: 'poisson',
      datasetSize: this.datasetSize,
      sampleRate: this.sampleRate,
      seed: this.seed,
      step: this.steps,
      rng: this.rng.state(),
    };
  }

  /** Resumes a sampler saved with {@link PoissonSampler.toJSON}. */
  static fromJSON(state: PoissonSamplerState): PoissonSampler {
    if (state?.sampling !== 'poisson') {
      throw new ClipwiseDataError(
        `PoissonSampler.fromJSON got sampling ${JSON.stringify(state?.sampling)}; expected 'poisson'. ` +
          `Restore a shuffle sampler state with ShuffleSampler.fromJSON.`,
      );
    }
    const sampler = new PoissonSampler(state);
    assertInteger(state.step, 'PoissonSampler state step', 0);
    sampler.rng = SeededRng.fromState(state.rng);
    sampler.steps = state.step;
    return sampler;
  }
}
