/**
 * (ε, δ) from a composed, discretised privacy loss Y: δ(ε) = E[(1 - e^{ε - Y})_+] (the hockey-stick
 * divergence written with the privacy loss Y, as in Gopi, Lee & Wutschitz 2021). Between two grid values δ(ε) = A - e^ε B with
 * A = P(Y > ε) and B = E[e^{-Y} 1{Y > ε}], so ε(δ) is solved exactly on the right segment.
 */
import type { ComposedPrv } from './compose';

/** δ(ε) of a composed loss. */
export function prvDelta(loss: ComposedPrv, epsilon: number): number {
  const { pmf, mesh, offset } = loss;
  const n = pmf.length;
  let delta = 0;
  for (let s = n - 1; s >= 0; s--) {
    const v = (s - n / 2) * mesh + offset;
    if (v <= epsilon) break;
    delta += pmf[s] * -Math.expm1(epsilon - v);
  }
  return delta;
}

/** The smallest ε >= 0 with δ(ε) <= delta (0 when δ(0) <= delta already). */
export function prvEpsilon(loss: ComposedPrv, delta: number): number {
  const { pmf, mesh, offset } = loss;
  const n = pmf.length;
  const value = (s: number) => (s - n / 2) * mesh + offset;
  let above = 0; // A: mass at values >= v_s
  let weighted = 0; // B: Σ p e^{-v} over the same values
  for (let s = n - 1; s >= 1; s--) {
    const v = value(s);
    above += pmf[s];
    weighted += pmf[s] * Math.exp(-v);
    const lower = value(s - 1);
    // On [v_{s-1}, v_s] δ(ε) = A - e^ε B; check the left end.
    if (above - Math.exp(lower) * weighted >= delta) {
      const eps = Math.log((above - delta) / weighted);
      return Math.max(0, Math.min(v, Math.max(lower, eps)));
    }
    if (v <= 0) return 0; // δ(0) <= delta already (δ(ε) is decreasing)
  }
  return 0;
}
