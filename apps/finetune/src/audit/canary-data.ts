import { SeededRng } from '@clipwise/data';

export interface CanaryDataOptions {
  /** Real (non-canary) training examples. */
  readonly examples: number;
  /** Features of a real example. */
  readonly features: number;
  readonly classes: number;
  /** m: canaries, each included with probability 1/2. */
  readonly canaries: number;
  readonly seed: number;
}

/**
 * The audit's training set: real examples from a Gaussian mixture (class k centred at 2·e_k, so
 * the task is learnable), followed by the canaries whose coin came up "in". A canary has no real
 * features; it is a Dirac input on its own coordinate, which no other example touches, so its
 * gradient has a direction of its own ("Dirac canary", Steinke, Nasr & Jagielski 2023, §6).
 */
export interface CanaryData {
  readonly features: number;
  readonly classes: number;
  readonly canaries: number;
  /** [rows, features] real features; zero rows for canaries. */
  readonly x: Float32Array;
  /** Label per training row. */
  readonly labels: Int32Array;
  /** Canary id per training row, -1 for a real example. */
  readonly canaryOfRow: Int32Array;
  /** Per canary: its (random) label and whether its coin put it in the training set. */
  readonly canaryLabels: Int32Array;
  readonly included: boolean[];
  /** Training rows: real examples plus included canaries. */
  readonly rows: number;
}

/** Builds the real examples and flips the canaries' coins, all from `seed` (separate streams). */
export function makeCanaryData(o: CanaryDataOptions): CanaryData {
  const dataRng = SeededRng.fromSeed(o.seed);
  // The coins get their own stream: the inclusion pattern must not depend on the data draws.
  const coinRng = SeededRng.fromSeed(o.seed + 0x5eed);
  const canaryLabels = Int32Array.from({ length: o.canaries }, () => coinRng.nextInt(o.classes));
  const included = Array.from({ length: o.canaries }, () => coinRng.uniform() < 0.5);
  const inIds = included.flatMap((inc, i) => (inc ? [i] : []));
  const rows = o.examples + inIds.length;
  const x = new Float32Array(rows * o.features);
  const labels = new Int32Array(rows);
  const canaryOfRow = new Int32Array(rows).fill(-1);
  for (let r = 0; r < o.examples; r++) {
    const label = dataRng.nextInt(o.classes);
    labels[r] = label;
    for (let f = 0; f < o.features; f++) x[r * o.features + f] = dataRng.normal() + (f === label % o.features ? 2 : 0);
  }
  inIds.forEach((id, k) => {
    labels[o.examples + k] = canaryLabels[id]!;
    canaryOfRow[o.examples + k] = id;
  });
  return { features: o.features, classes: o.classes, canaries: o.canaries, x, labels, canaryOfRow, canaryLabels, included, rows };
}
