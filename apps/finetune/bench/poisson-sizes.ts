// Batch sizes as Poisson sampling makes them, for the benches whose shapes must change from step to
// step as a training run's do (pool-poisson.ts, shape-trim.ts).

/**
 * `count` seeded batch sizes around `expected`: the normal approximation of Poisson sampling's
 * Binomial(n, q) with mean `expected` (sd √expected), at least 1. `rand` draws in [0, 1) (one stream
 * per bench, so that its other draws interleave with these as before).
 *
 * @example
 * poissonLikeSizes(256, 3, seededRandom(1)); // e.g. [241, 270, 255]
 */
export function poissonLikeSizes(expected: number, count: number, rand: () => number): number[] {
  return Array.from({ length: count }, () => poissonLikeSize(expected, rand));
}

/** One draw of {@link poissonLikeSizes}. */
export function poissonLikeSize(expected: number, rand: () => number): number {
  const z = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return Math.max(1, Math.round(expected + Math.sqrt(expected) * z));
}

/** A seeded linear congruential stream in [0, 1): the benches' sizes repeat from run to run. */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
