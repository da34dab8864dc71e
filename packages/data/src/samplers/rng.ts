import { ClipwiseDataError, assertInteger } from '../errors.js';

/** Serialisable state of a {@link SeededRng}: plain JSON, safe to store in a checkpoint. */
export interface RngState {
  readonly algorithm: 'xoshiro128**';
  /** The four 32-bit words of the generator, as unsigned integers. */
  readonly words: readonly [number, number, number, number];
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** SplitMix32-style mixer (Steele et al. 2014), used only to expand a seed into the four state words. */
function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A small, fast, seeded pseudo-random generator whose whole state is four numbers, so a resumed
 * training run continues exactly the same stream: xoshiro128** 1.1 (Blackman & Vigna, "Scrambled
 * linear pseudorandom number generators", 2018; reference C at prng.di.unimi.it).
 *
 * Not cryptographically secure. DP guarantees assume the sampling and noise are unpredictable to an
 * adversary; for a real deployment seed it from a secure source (`crypto.getRandomValues`).
 *
 * @example
 * ```ts
 * const rng = SeededRng.fromSeed(42);
 * const u = rng.uniform();          // in [0, 1)
 * const saved = rng.state();        // JSON-safe
 * const again = SeededRng.fromState(saved);
 * again.uniform() === rng.uniform(); // true
 * ```
 */
export class SeededRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(words: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  /**
   * Generator seeded from a non-negative safe integer (both 32-bit halves are used). Equal seeds
   * give equal streams.
   */
  static fromSeed(seed: number): SeededRng {
    assertInteger(seed, 'seed', 0);
    const mix = { x: (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) >>> 0, 0x27d4eb2f) };
    const words: [number, number, number, number] = [splitmix32(mix), splitmix32(mix), splitmix32(mix), splitmix32(mix)];
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1; // the all-zero state is a fixed point
    return new SeededRng(words);
  }

  /** Generator restored from {@link SeededRng.state}; continues the stream where it was saved. */
  static fromState(state: RngState): SeededRng {
    const words = (state as { words?: unknown })?.words;
    if (
      state?.algorithm !== 'xoshiro128**' ||
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32) ||
      words.every((w) => w === 0)
    ) {
      throw new ClipwiseDataError(
        `RNG state ${JSON.stringify(state)} is not a valid xoshiro128** state; expected ` +
          `{ algorithm: 'xoshiro128**', words: [4 unsigned 32-bit integers, not all 0] } as written by rng.state().`,
      );
    }
    return new SeededRng(words as unknown as [number, number, number, number]);
  }

  /** A JSON-safe copy of the current state. */
  state(): RngState {
    return { algorithm: 'xoshiro128**', words: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** Next raw unsigned 32-bit output. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits (two 32-bit outputs). */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); n in [1, 2^32]. */
  nextInt(n: number): number {
    assertInteger(n, 'nextInt bound', 1, TWO_POW_32);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % n;
    }
  }

  /**
   * Standard normal draw by the Box–Muller transform (Box & Muller 1958). Uses two uniforms and keeps
   * no spare value, so the state stays four words.
   */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Shuffles `array` in place (Fisher–Yates / Durstenfeld) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    assertInteger(n, 'permutation size', 0, 2 ** 31 - 1);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}
