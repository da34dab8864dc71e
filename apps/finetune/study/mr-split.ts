// The validation split of the private E2E data: by meaning representation (MR), so that no MR is
// in both parts and the lr is not picked on references of MRs the model was trained on. Pure.
import { SeededRng, type E2EPair } from '@clipwise/data';

/** The items in a seeded order (the data package's xoshiro128** permutation): the same split on every machine. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  return Array.from(SeededRng.fromSeed(seed).permutation(items.length), (i) => items[i]!);
}

/**
 * Splits pairs into training and validation parts with disjoint MRs: a seeded `valFraction` of the
 * distinct MRs (at least one, never all) goes to validation with all its references. The training
 * part is shuffled (seeded), so that `--limit N` on it keeps many MRs rather than the file's first few.
 */
export function splitByMr(pairs: readonly E2EPair[], valFraction: number, seed: number): { train: E2EPair[]; val: E2EPair[] } {
  if (!(valFraction > 0 && valFraction < 1)) throw new Error(`valFraction must be in (0, 1), got ${valFraction}`);
  const mrs = [...new Set(pairs.map((p) => p.mr))];
  if (mrs.length < 2) throw new Error(`an MR-disjoint split needs at least 2 distinct MRs, got ${mrs.length}`);
  const nVal = Math.min(mrs.length - 1, Math.max(1, Math.round(valFraction * mrs.length)));
  const valMrs = new Set(seededShuffle(mrs, seed).slice(0, nVal));
  const val = pairs.filter((p) => valMrs.has(p.mr));
  const train = seededShuffle(pairs.filter((p) => !valMrs.has(p.mr)), seed + 1);
  return { train, val };
}

/** A CSV field, always quoted (RFC 4180: a quote inside is doubled). */
const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** E2E pairs as the `mr,ref` CSV that `parseE2ECsv` (and so `clipwise train --data`) reads. */
export function e2eCsv(pairs: readonly E2EPair[]): string {
  return ['mr,ref', ...pairs.map((p) => `${csvField(p.mr)},${csvField(p.ref)}`)].join('\n') + '\n';
}
