/**
 * The discretisation grid of the PRV accountant, chosen so that the error bounds of Gopi, Lee &
 * Wutschitz (NeurIPS 2021; error theorem and Remark 5.6) hold with our error budget:
 *
 * - Mesh h: each step's discretised loss Ỹ_i differs from the truncated loss by a mean-zero error
 *   in an interval of width h (mean-preserving discretisation), so by Hoeffding
 *   P(|Σ (Ỹ_i - Y_i)| >= ε_err) <= 2 exp(-2 ε_err² / (K h²)) = p_hoeffding
 *   for h = ε_err / √((K/2) log(2 / p_hoeffding)), K = total steps.
 * - Half-width H: the tails beyond ±L of the composed loss (and of each single step) are bounded
 *   with RDP by Chernoff: P(Y > L) <= e^{(α-1)(D_α - L)} and P(Y < -L) <= e^{(α-1)(D_α - L)} (the
 *   reverse-order divergence is no larger, Mironov et al. 2019), i.e.
 *   L = min_α D_α + log(2/p)/(α - 1). The window also holds the accumulated mean shifts (<= K h/2).
 *
 * Budget: p_hoeffding = δ_err/4, composed tail δ_err/8, all single-step tails together δ_err/8;
 * the coupling argument then moves δ by at most 2(δ_err/4 + δ_err/8) + δ_err/8 = 7/8 δ_err, leaving
 * δ_err/8 for floating-point error, which we check against N · 2^-52.
 */
import { ClipwiseAccountantError } from '../../errors';
import type { HistoryEntry } from '../../history';
import { nextPowerOfTwo } from '../../math/fft';
import { perStepRdp } from '../rdp';
import { DEFAULT_RDP_ORDERS } from '../rdp-orders';

/** Largest grid we allocate: 2^22 points (about 200 MB of working arrays). */
export const MAX_PRV_GRID_SIZE = 2 ** 22;

export interface PrvGrid {
  /** Mesh h: distance between grid points. */
  mesh: number;
  /** Number of points N (a power of two). Point j sits at (j - N/2) h. */
  size: number;
  /** The L used for the composed tails (before margins). */
  tailBound: number;
}

/** L = min_α r(α) + logInvP/(α - 1): by Chernoff, each tail beyond ±L has mass <= e^{-logInvP}. */
function chernoffBound(orders: readonly number[], rdp: Float64Array, logInvP: number): number {
  let best = Infinity;
  for (let k = 0; k < orders.length; k++) best = Math.min(best, rdp[k] + logInvP / (orders[k] - 1));
  return best;
}

/** Chooses mesh and size for a history; throws if the grid would exceed MAX_PRV_GRID_SIZE. */
export function choosePrvGrid(history: readonly HistoryEntry[], epsError: number, deltaError: number): PrvGrid {
  const orders = DEFAULT_RDP_ORDERS;
  let total = 0;
  const composed = new Float64Array(orders.length);
  let singleBound = 0;
  for (const e of history) total += e.steps;
  for (const e of history) {
    const perStep = perStepRdp(e.sampleRate, e.noiseMultiplier, orders);
    for (let k = 0; k < orders.length; k++) composed[k] += e.steps * perStep[k];
    // Union bound over all K single steps, each two-sided: P <= 2K e^{(α-1)(r - L)} <= δ_err/8.
    singleBound = Math.max(singleBound, chernoffBound(orders, perStep, Math.log((16 * total) / deltaError)));
  }
  const tailBound = chernoffBound(orders, composed, Math.log(16 / deltaError));
  const mesh = epsError / Math.sqrt((total / 2) * Math.log(8 / deltaError));
  const halfWidth = Math.max(tailBound + epsError + (total * mesh) / 2, singleBound) + 2 * mesh;
  const size = Math.max(64, nextPowerOfTwo(Math.ceil((2 * halfWidth) / mesh)));
  if (size > MAX_PRV_GRID_SIZE || !Number.isFinite(halfWidth)) {
    throw new ClipwiseAccountantError(
      `the PRV grid for this history would need ${Number.isFinite(size) ? size : 'infinitely many'} points ` +
        `(more than ${MAX_PRV_GRID_SIZE}); epsError = ${epsError} is too fine for ${total} steps with ε this large. ` +
        'Pass a larger epsError (e.g. 0.05) or use the RDP accountant.',
      { argument: 'epsError' },
    );
  }
  if (size * 2 ** -52 > deltaError / 8) {
    throw new ClipwiseAccountantError(
      `delta is too small for the PRV accountant: rounding over ${size} grid points (~${(size * 2 ** -52).toExponential(1)}) ` +
        `would exceed the δ error budget ${deltaError.toExponential(2)}. Pass a larger delta or epsError, or use the RDP accountant.`,
      { argument: 'delta' },
    );
  }
  return { mesh, size, tailBound };
}
