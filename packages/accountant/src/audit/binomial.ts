// Binomial probabilities in float64 for the audit statistics. Terms are formed in log space, so
// tails far below 1e-300 of a single term never overflow or underflow the sum's leading terms.

const SMALL = 256;
const LOG_FACTORIAL_TABLE: Float64Array = (() => {
  const t = new Float64Array(SMALL);
  for (let n = 2; n < SMALL; n++) t[n] = t[n - 1]! + Math.log(n);
  return t;
})();

/**
 * log(n!) for an integer n >= 0: a table of summed logs below 256, above it Stirling's series with
 * four correction terms, whose truncation error is below 1e-19 there (far under a double's rounding).
 */
export function logFactorial(n: number): number {
  if (n < SMALL) return LOG_FACTORIAL_TABLE[n]!;
  const x = n + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  // lnΓ(x) = (x - 1/2) ln x - x + ln(2π)/2 + 1/(12x) - 1/(360x³) + 1/(1260x⁵) - 1/(1680x⁷)
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
}

/** log P[X = k] for X ~ Binomial(n, p); -Infinity outside 0..n. */
export function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P[X = k] for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  return Math.exp(binomialLogPmf(k, n, p));
}

/**
 * Σ_{j=from}^{to} P[X = j], summed from the largest term outward so that small terms are added to
 * a sum of their own size first (the pmf is unimodal, with its mode near n·p).
 */
export function binomialRangeProbability(from: number, to: number, n: number, p: number): number {
  const lo = Math.max(0, Math.ceil(from));
  const hi = Math.min(n, Math.floor(to));
  if (lo > hi) return 0;
  const mode = Math.min(hi, Math.max(lo, Math.floor((n + 1) * p)));
  const peak = binomialLogPmf(mode, n, p);
  if (peak === -Infinity) return 0;
  let sum = 0;
  // Terms below e^-745 of the peak underflow to 0 relative to it; stop walking once they do.
  for (let j = mode; j <= hi; j++) {
    const term = Math.exp(binomialLogPmf(j, n, p) - peak);
    sum += term;
    if (term < 1e-18 * sum) break;
  }
  for (let j = mode - 1; j >= lo; j--) {
    const term = Math.exp(binomialLogPmf(j, n, p) - peak);
    sum += term;
    if (term < 1e-18 * sum) break;
  }
  return Math.min(1, sum * Math.exp(peak));
}

/** P[X >= k] for X ~ Binomial(n, p) (1 for k <= 0, 0 for k > n). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  return binomialRangeProbability(k, n, n, p);
}

/** P[X <= k] for X ~ Binomial(n, p) (0 for k < 0, 1 for k >= n). */
export function binomialLowerTail(k: number, n: number, p: number): number {
  return binomialRangeProbability(0, k, n, p);
}
