/**
 * ε of a history of Poisson-subsampled Gaussian steps by PRV composition (Gopi, Lee & Wutschitz,
 * "Numerical Composition of Differential Privacy", NeurIPS 2021), with their two-sided error bound:
 * for the discretised composed loss Ỹ,
 *   δ_Y(ε + ε_err) - δ_err <= δ_Ỹ(ε) <= δ_Y(ε - ε_err) + δ_err    (their error theorem),
 * hence  ε_Ỹ(δ + δ_err) - ε_err <= ε_true(δ) <= ε_Ỹ(δ - δ_err) + ε_err.
 * Both neighbouring orders (remove and add an example) are composed; the reported ε is the larger.
 */
import { ClipwiseAccountantError } from '../../errors';
import type { HistoryEntry } from '../../history';
import { composePrvs, type ComposedPrv, type PrvFactor } from './compose';
import { discretizeSubsampledGaussian } from './discretize';
import { choosePrvGrid, type PrvGrid } from './prv-grid';
import { prvEpsilons } from './prv-epsilon';

export interface PrvComposition {
  grid: PrvGrid;
  remove: ComposedPrv;
  add: ComposedPrv;
  /** The ε error the grid achieves: `requestedEpsError`, or larger when that grid would not fit. */
  epsError: number;
  requestedEpsError: number;
  deltaError: number;
}

export interface PrvEpsilonBounds {
  /** Lower bound on the true ε (after discretisation error). */
  lower: number;
  /** ε of the discretised composition itself: the best single estimate. */
  estimate: number;
  /** Upper bound on the true ε: the value to report as a guarantee. */
  upper: number;
  /** The ε error used: lower >= estimate(δ + δ_err) - epsError, upper = estimate(δ - δ_err) + epsError. */
  epsError: number;
  /** The ε error asked for; smaller than `epsError` when the grid could not be that fine. */
  requestedEpsError: number;
  /** True when `epsError` > `requestedEpsError` (the grid was capped; see MAX_PRV_GRID_SIZE). */
  widened: boolean;
}

/**
 * Discretises and composes the PRVs of a non-empty history for the given error budget. When the
 * grid for `epsError` would exceed MAX_PRV_GRID_SIZE points, the tightest error that fits is used
 * instead (the result's `epsError`; `requestedEpsError` is the one asked for).
 */
export function composeHistory(history: readonly HistoryEntry[], epsError: number, deltaError: number): PrvComposition {
  const grid = choosePrvGrid(history, epsError, deltaError);
  // One factor per distinct (σ, q): entries that repeat after a change are folded together.
  const byParams = new Map<string, PrvFactor>();
  for (const e of history) {
    const key = `${e.noiseMultiplier}|${e.sampleRate}`;
    const found = byParams.get(key);
    if (found !== undefined) {
      found.steps += e.steps;
      continue;
    }
    byParams.set(key, { ...discretizeSubsampledGaussian(e.sampleRate, e.noiseMultiplier, grid), steps: e.steps });
  }
  const { remove, add } = composePrvs([...byParams.values()], grid.mesh, grid.size);
  return { grid, remove, add, epsError: grid.epsError, requestedEpsError: epsError, deltaError };
}

/** Lower, estimate and upper ε at δ from a composition (max over the two neighbouring orders). */
export function prvEpsilonBounds(composition: PrvComposition, delta: number): PrvEpsilonBounds {
  const { remove, add, epsError, requestedEpsError, deltaError } = composition;
  if (!(deltaError < delta)) {
    throw new ClipwiseAccountantError(
      `deltaError must be smaller than delta, got deltaError = ${deltaError} and delta = ${delta}; the default is delta / 1000.`,
      { argument: 'deltaError' },
    );
  }
  const deltas = [delta + deltaError, delta, delta - deltaError];
  const r = prvEpsilons(remove, deltas);
  const a = prvEpsilons(add, deltas);
  return {
    lower: Math.max(0, Math.max(r[0], a[0]) - epsError),
    estimate: Math.max(r[1], a[1]),
    upper: Math.max(r[2], a[2]) + epsError,
    epsError,
    requestedEpsError,
    widened: epsError > requestedEpsError,
  };
}
