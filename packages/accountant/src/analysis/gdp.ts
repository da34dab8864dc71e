/**
 * Gaussian differential privacy (Dong, Roth & Su, "Gaussian Differential Privacy", JRSS-B 2022) with
 * the central limit theorem for Poisson-subsampled Gaussian steps (Bu, Dong, Long & Su, "Deep
 * Learning with Gaussian Differential Privacy", HDSR 2020):
 *   μ = q √(T (e^{1/σ²} - 1)),  and for different (q_i, σ_i, T_i): μ² = Σ q_i² T_i (e^{1/σ_i²} - 1).
 * This is an ASYMPTOTIC APPROXIMATION (T → ∞ with q√T fixed), not an upper bound: it can
 * understate ε, noticeably so for small T or large q. Use the RDP or PRV accountant for guarantees.
 *
 * μ-GDP is equivalent to (ε, δ(ε))-DP for all ε >= 0 with (Dong et al., Corollary 2.13)
 *   δ(ε) = Φ(-ε/μ + μ/2) - e^ε Φ(-ε/μ - μ/2).
 */
import { logNormCdf, normCdf } from '../math/erfc';

/** One entry of a history: `steps` steps at noise multiplier σ and sampling rate q. */
interface GdpEntry {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

/** μ of the CLT approximation for a (possibly heterogeneous) history. */
export function gdpMu(history: readonly GdpEntry[]): number {
  let mu2 = 0;
  for (const { noiseMultiplier: sigma, sampleRate: q, steps } of history) {
    mu2 += q * q * steps * Math.expm1(1 / (sigma * sigma));
  }
  return Math.sqrt(mu2);
}

/** δ(ε) of μ-GDP (Dong, Roth & Su, Corollary 2.13), computed with the second term in log space. */
export function gdpDelta(epsilon: number, mu: number): number {
  if (mu === 0) return 0;
  if (mu === Infinity) return 1;
  const a = normCdf(-epsilon / mu + mu / 2);
  const b = Math.exp(epsilon + logNormCdf(-epsilon / mu - mu / 2));
  return Math.min(1, Math.max(0, a - b));
}

/** The smallest ε >= 0 with δ(ε) <= δ under μ-GDP, by bisection to 1e-12 relative. */
export function gdpEpsilon(delta: number, mu: number): number {
  if (mu === 0) return 0;
  if (mu === Infinity) return Infinity;
  if (gdpDelta(0, mu) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (gdpDelta(hi, mu) > delta) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) return Infinity;
  }
  // δ(ε) is strictly decreasing: bisection is safe and monotone.
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (gdpDelta(mid, mu) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}
