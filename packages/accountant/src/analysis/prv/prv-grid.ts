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
  /** The ε error this grid guarantees: the one asked for, or larger when that grid would not fit. */
  epsError: number;
  /** The ε error asked for. */
  requestedEpsError: number;
}

/** L = min_α r(α) + logInvP/(α - 1): by Chernoff, each tail beyond ±L has mass <= e^{-logInvP}. */
function chernoffBound(orders: readonly number[], rdp: Float64Array, logInvP: number): number {
  let best = Infinity;
  for (let k = 0; k < orders.length; k++) best = Math.min(best, rdp[k] + logInvP / (orders[k] - 1));
  return best;
}

/** Tail bounds of a history that do not depend on the mesh. */
interface HistoryTails {
  total: number;
  tailBound: number;
  singleBound: number;
  deltaError: number;
}

function historyTails(history: readonly HistoryEntry[], deltaError: number): HistoryTails {
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
  return { total, tailBound: chernoffBound(orders, composed, Math.log(16 / deltaError)), singleBound, deltaError };
}

/** Mesh and the number of points (before rounding to a power of two) for an ε error. */
function gridPoints(t: HistoryTails, epsError: number): { mesh: number; points: number } {
  const mesh = epsError / Math.sqrt((t.total / 2) * Math.log(8 / t.deltaError));
  const halfWidth = Math.max(t.tailBound + epsError + (t.total * mesh) / 2, t.singleBound) + 2 * mesh;
  return { mesh, points: Math.ceil((2 * halfWidth) / mesh) };
}

/**
 * The smallest ε error whose grid has at most `maxSize` points, by bisection (the number of points
 * falls as the error grows); Infinity when even a huge error does not fit (too many steps: the mean
 * shifts alone need K + 2 points).
 */
function smallestFittingEpsError(t: HistoryTails, from: number, maxSize: number): number {
  const fits = (e: number) => gridPoints(t, e).points <= maxSize;
  let hi = from;
  for (let i = 0; !fits(hi); i++) {
    if (i === 60) return Infinity;
    hi *= 2;
  }
  let lo = hi / 2 > from ? hi / 2 : from;
  for (let i = 0; i < 60 && hi - lo > 1e-9 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Chooses mesh and size for a history. When the grid for `epsError` would exceed
 * MAX_PRV_GRID_SIZE (or the size that rounding allows for this δ error), the grid uses the
 * smallest ε error that fits instead, reported in `epsError` (`requestedEpsError` keeps the asked
 * one). Throws only when no grid fits: RDP infinite, or more steps than the largest grid has points.
 */
export function choosePrvGrid(history: readonly HistoryEntry[], epsError: number, deltaError: number): PrvGrid {
  const t = historyTails(history, deltaError);
  if (!Number.isFinite(t.tailBound) || !Number.isFinite(t.singleBound)) {
    throw new ClipwiseAccountantError(
      'the PRV accountant cannot bound the tails of this history (its RDP is infinite at every order); ' +
        'check the noise multiplier and sampling rate, or use the RDP accountant.',
      { argument: 'noiseMultiplier' },
    );
  }
  // Rounding over N points must stay within δ_err/8 (N · 2^-52 per probability, see above).
  let maxSize = MAX_PRV_GRID_SIZE;
  while (maxSize >= 64 && maxSize * 2 ** -52 > deltaError / 8) maxSize /= 2;
  if (maxSize < 64) {
    throw new ClipwiseAccountantError(
      `delta is too small for the PRV accountant: rounding over even 64 grid points (~${(64 * 2 ** -52).toExponential(1)}) ` +
        `would exceed the δ error budget ${deltaError.toExponential(2)}. Pass a larger delta, or use the RDP accountant.`,
      { argument: 'delta' },
    );
  }
  let used = epsError;
  if (gridPoints(t, epsError).points > maxSize) {
    used = smallestFittingEpsError(t, epsError, maxSize);
    if (!Number.isFinite(used)) {
      throw new ClipwiseAccountantError(
        `the PRV accountant cannot compose ${t.total} steps on its largest grid (${maxSize} points): the discretisation ` +
          'shifts of that many steps alone do not fit, whatever epsError. Use the RDP accountant.',
        { argument: 'steps' },
      );
    }
  }
  const { mesh, points } = gridPoints(t, used);
  const size = Math.min(maxSize, Math.max(64, nextPowerOfTwo(points)));
  return { mesh, size, tailBound: t.tailBound, epsError: used, requestedEpsError: epsError };
}
