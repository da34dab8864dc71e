/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
 * generator, so element i of draw k is a pure function of (key, counter) and any device can compute any
 * slice of the stream independently. The same arithmetic runs in WGSL (`webgpu/philox-noise-program.ts`), which
 * is what makes noise identical on every backend and a resumed run draw exactly what an uninterrupted
 * one would. Not a cryptographically secure generator.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32s, exact in doubles via 16-bit halves. */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = a0 * b0;
  const m1 = a1 * b0 + (t >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  return (a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536)) >>> 0;
}

/** The 4 output words of Philox4x32-10 for one 128-bit counter and 64-bit key. */
export function philox4x32(counter: readonly [number, number, number, number], key: readonly [number, number]): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0) as [number, number, number, number];
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** Second key word: a fixed tag so Clipwise streams differ from other Philox users with the same seed. */
export const PHILOX_KEY_TAG = 0x0c11f415;

/** Uniform in (0, 1] from the top 24 bits of a word (exactly representable in float32). */
export function wordToUnit(w: number): number {
  return ((w >>> 8) + 1) / 16777216;
}

/**
 * n standard normals of stream `stream` under `seed`: block b (elements 4b..4b+3) is Philox of counter
 * (b, stream, 0, 0), key (seed, tag), turned into normals by Box–Muller on word pairs. The tails are
 * cut at |z| ≤ sqrt(2·ln 2²⁴) ≈ 5.77 (probability 8e-9), as with any 24-bit-uniform Box–Muller.
 */
export function philoxNormals(n: number, seed: number, stream: number): Float32Array {
  const out = new Float32Array(n);
  for (let b = 0; 4 * b < n; b++) {
    const w = philox4x32([b, stream, 0, 0], [seed, PHILOX_KEY_TAG]);
    const z = [...boxMuller(w[0], w[1]), ...boxMuller(w[2], w[3])];
    for (let j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = z[j]!;
  }
  return out;
}

function boxMuller(a: number, b: number): [number, number] {
  const r = Math.sqrt(-2 * Math.log(wordToUnit(a)));
  // θ in (−π, π]: WGSL's cos/sin are only specified to 2⁻¹¹ absolute error inside [−π, π]
  const theta = 2 * Math.PI * wordToUnit(b) - Math.PI;
  return [r * Math.cos(theta), r * Math.sin(theta)];
}
