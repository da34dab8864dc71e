import type * as tf from '@tensorflow/tfjs-core';
import { addGaussianNoise, addGaussianNoiseToAll, philoxNormals } from '@clipwise/core';

/** Serialisable state of a `NoiseSource`: a resumed run continues the same stream. */
export interface NoiseSourceState {
  readonly seed: number;
  readonly draws: number;
}

/**
 * Gaussian noise from a seeded, counter-based stream: draw k is Philox4x32-10 stream k under the seed
 * (`addGaussianNoise` in core), so the state is two integers, a resumed run draws exactly what an
 * uninterrupted one would, and the numbers are the same on every backend. On webgpu the draw runs on
 * the GPU (drawing 124M values in JavaScript and uploading them cost seconds a step).
 * Not cryptographically secure, like Opacus outside its secure mode: fine for research, say so in a
 * threat model that needs more.
 */
export class NoiseSource {
  private draws: number;

  constructor(
    readonly seed: number,
    state?: NoiseSourceState,
  ) {
    if (!Number.isInteger(seed)) throw new Error(`NoiseSource: seed must be an integer, got ${seed}`);
    this.draws = state?.draws ?? 0;
  }

  static fromJSON(state: NoiseSourceState): NoiseSource {
    return new NoiseSource(state.seed, state);
  }

  toJSON(): NoiseSourceState {
    return { seed: this.seed, draws: this.draws };
  }

  /**
   * `n` values of N(0, std²) on the host (the draw `addGaussianNoise(null, [n], …)` makes on any
   * backend): for a few numbers the host needs anyway (the adaptive thresholds' count noise), a
   * device draw and read would cost more than the draw.
   */
  hostNormals(n: number, std: number): Float32Array {
    const { seed, stream } = this.next(std);
    return philoxNormals(n, seed, stream).map((z) => z * std);
  }

  /** (x + N(0, std²))·scale in one pass (one kernel on webgpu). */
  addTo(x: tf.Tensor, std: number, scale = 1): tf.Tensor {
    return addGaussianNoise(x, x.shape, { ...this.next(std), scale });
  }

  /**
   * (x_k + N(0, std²))·scale for each tensor, one draw each in order (the draws `addTo` would make
   * one by one); takes ownership of `xs`. On webgpu in place, 8 tensors a launch.
   */
  addToAll(xs: readonly tf.Tensor[], std: number, scale = 1): tf.Tensor[] {
    return addGaussianNoiseToAll(xs, xs.map(() => ({ ...this.next(std), scale })));
  }

  private next(std: number) {
    const stream = this.draws++;
    if (stream > 0xffffffff) throw new Error('NoiseSource: 2³² draws used up under this seed; start a new seed');
    return { seed: this.seed >>> 0, stream, std };
  }
}
