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

/**
 * For each δ, the smallest ε >= 0 with δ(ε) <= δ (0 when δ(0) <= δ already), all in one scan from the
 * top of the grid (the bounds need three): δ(ε) is decreasing, so scanning down, each δ is met on the
 * first segment whose left end reaches it.
 */
export function prvEpsilons(loss: ComposedPrv, deltas: readonly number[]): number[] {
  const { pmf, mesh, offset } = loss;
  const n = pmf.length;
  const value = (s: number) => (s - n / 2) * mesh + offset;
  const result = deltas.map(() => 0);
  let open = deltas.length;
  const done = deltas.map(() => false);
  let above = 0; // A: mass at values >= v_s
  let weighted = 0; // B: Σ p e^{-v} over the same values
  for (let s = n - 1; s >= 1 && open > 0; s--) {
    const v = value(s);
    const p = pmf[s];
    if (p !== 0) {
      above += p;
      weighted += p * Math.exp(-v);
    }
    const lower = value(s - 1);
    // On [v_{s-1}, v_s] δ(ε) = A - e^ε B; check the left end.
    const leftDelta = above - Math.exp(lower) * weighted;
    for (let i = 0; i < deltas.length; i++) {
      if (done[i] || !(leftDelta >= deltas[i])) continue;
      const eps = Math.log((above - deltas[i]) / weighted);
      result[i] = Math.max(0, Math.min(v, Math.max(lower, eps)));
      done[i] = true;
      open--;
    }
    if (v <= 0) break; // δ(0) <= delta for the rest: their ε is 0 (δ(ε) is decreasing)
  }
  return result;
}
