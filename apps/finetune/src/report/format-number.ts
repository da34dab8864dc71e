/**
 * Numbers rounded for people, as the report shows them (the JSON files keep full precision):
 * ε to 2 decimals, losses to 3, times in seconds, fractions as percentages.
 */

/**
 * ε with 2 decimals, rounded up: ε is an upper bound on the privacy loss, and the rounded number
 * must stay one (3.9912 → `4.00`, 3.99 → `3.99`).
 */
export const formatEpsilon = (v: number): string => (Math.ceil(v * 100 - 1e-9) / 100).toFixed(2);

/** A loss (nats) with 3 decimals: `2.772`. */
export const formatLoss = (v: number): string => v.toFixed(3);

/** Milliseconds as seconds with 3 significant digits: `0.0123 s`, `1.23 s`, `123 s`. */
export const formatSeconds = (ms: number): string => `${Number((ms / 1000).toPrecision(3))} s`;

/** A fraction in [0, 1] as a percentage with one decimal: `12.5%`. */
export const formatPercent = (v: number): string => `${(100 * v).toFixed(1)}%`;

/** δ and other tiny probabilities: `1e-5`, not `0.00001`. */
export const formatSmall = (v: number): string => (v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential().replace(/\.?0*e/, 'e').replace('e+', 'e') : formatNumber(v));

/** Any other number: integers as they are (with thin separators from 10,000), else 3 significant digits. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return Math.abs(v) >= 10000 ? v.toLocaleString('en-US') : String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a < 0.001) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}
