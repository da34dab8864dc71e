/**
 * From RDP to (ε, δ)-DP.
 *
 * - 'balle2020' (default): Balle, Barthe, Gaboardi, Hsu & Sato, "Hypothesis Testing Interpretations
 *   and Rényi Differential Privacy" (AISTATS 2020), Theorem 21:
 *     ε = ε_RDP(α) + log((α - 1)/α) - (log δ + log α) / (α - 1),
 *   the conversion used by Opacus (since 1.0) and by TF Privacy / dp_accounting. As in
 *   dp_accounting, an order whose RDP r satisfies δ² + expm1(-r) > 0 gives ε = 0: then
 *   TV <= sqrt(1 - e^{-KL}) <= sqrt(1 - e^{-r}) <= δ (Bretagnolle–Huber), since KL <= D_α.
 *   Orders <= 1.01 are skipped there (the formula is numerically unstable as α → 1).
 * - 'classic': Mironov, "Rényi Differential Privacy" (CSF 2017): ε = ε_RDP(α) + log(1/δ)/(α - 1).
 *   Looser; provided to reproduce values published with it (TF Privacy before 2021, Opacus < 1.0).
 *
 * ε is the minimum over orders; the minimising order is reported so users can widen the grid when
 * it sits at an end.
 */
import { ClipwiseAccountantError } from '../errors';

export type RdpConversion = 'balle2020' | 'classic';

/** ε with its minimising order. `order` is NaN when every order gives ε = ∞. */
export interface RdpEpsilon {
  epsilon: number;
  order: number;
}

function checkSameLength(orders: ArrayLike<number>, rdp: ArrayLike<number>): void {
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new ClipwiseAccountantError(
      `orders and rdp must be non-empty and of one length, got ${orders.length} and ${rdp.length}; pass one RDP value per order.`,
    );
  }
}

/**
 * The smallest ε over orders such that the mechanism is (ε, δ)-DP.
 *
 * @example
 * ```ts
 * const { epsilon, order } = rdpToEpsilon(DEFAULT_RDP_ORDERS, computeRdp(0.01, 1, 300), 1e-5);
 * ```
 */
export function rdpToEpsilon(
  orders: ArrayLike<number>,
  rdp: ArrayLike<number>,
  delta: number,
  conversion: RdpConversion = 'balle2020',
): RdpEpsilon {
  checkSameLength(orders, rdp);
  const logDelta = Math.log(delta);
  let best = Infinity;
  let bestOrder = NaN;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k];
    const r = rdp[k];
    let eps: number;
    if (Number.isNaN(r) || r === Infinity) {
      eps = Infinity;
    } else if (conversion === 'classic') {
      eps = r - logDelta / (a - 1);
    } else if (delta * delta + Math.expm1(-r) > 0) {
      eps = 0;
    } else if (a > 1.01) {
      eps = r + Math.log1p(-1 / a) - (logDelta + Math.log(a)) / (a - 1);
    } else {
      eps = Infinity;
    }
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), order: bestOrder };
}

/** δ with its minimising order. */
export interface RdpDelta {
  delta: number;
  order: number;
}

/**
 * The smallest δ over orders such that the mechanism is (ε, δ)-DP: the inverse of the
 * 'balle2020' conversion, log δ = (α - 1)(r - ε + log(1 - 1/α)) - log α, and the KL bound
 * δ <= sqrt(1 - e^{-r}); capped at 1.
 */
export function rdpToDelta(orders: ArrayLike<number>, rdp: ArrayLike<number>, epsilon: number): RdpDelta {
  checkSameLength(orders, rdp);
  let best = Infinity;
  let bestOrder = NaN;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k];
    const r = rdp[k];
    if (Number.isNaN(r) || r === Infinity) continue;
    let logDelta = r === 0 ? -Infinity : 0.5 * Math.log(-Math.expm1(-r));
    if (a > 1.01) logDelta = Math.min(logDelta, (a - 1) * (r - epsilon + Math.log1p(-1 / a)) - Math.log(a));
    if (logDelta < best) {
      best = logDelta;
      bestOrder = a;
    }
  }
  return { delta: Math.min(1, Math.exp(best)), order: bestOrder };
}
