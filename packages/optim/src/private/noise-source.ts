import * as tf from '@tensorflow/tfjs-core';

/** Serialisable state of a `NoiseSource`: a resumed run continues the same stream. */
export interface NoiseSourceState {
  readonly seed: number;
  readonly draws: number;
}

/**
 * Gaussian noise from a seeded, counter-based stream: draw k uses seed hash(seed, k), so the state
 * is two integers and a resumed run draws exactly what an uninterrupted one would.
 * Not cryptographically secure (TF.js's generator is seedrandom's alea), like Opacus outside its
 * secure mode: fine for research, say so in a threat model that needs more.
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

  /** N(0, std²) of the given shape. */
  normal(shape: readonly number[], std: number): tf.Tensor {
    const k = this.draws++;
    return tf.randomNormal(shape as number[], 0, std, 'float32', mix(this.seed, k));
  }
}

/** splitmix32-style integer hash of (seed, counter) to a non-negative 31-bit seed. */
function mix(seed: number, counter: number): number {
  let h = (seed ^ 0x9e3779b9) + Math.imul(counter + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  // never 0: TF.js reads seed 0 as "no seed" and would draw from Math.random
  return ((h ^ (h >>> 16)) >>> 1) || 1;
}
