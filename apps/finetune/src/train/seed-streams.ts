// Browser-safe: one run's --seed splits into independent streams, the same in `clipwise train`,
// `clipwise audit`, the web page and a resumed run's checks.

/** The seed of the private gradients' noise (and clip-count noise) for a run's seed. */
export const noiseSeed = (seed: number): number => seed + 1;

/** The seed of the Poisson sampler for a run's seed. */
export const samplerSeed = (seed: number): number => seed + 2;
