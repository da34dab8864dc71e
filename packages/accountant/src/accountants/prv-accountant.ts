/**
 * The PRV accountant (Gopi, Lee & Wutschitz, NeurIPS 2021), like Opacus' `PRVAccountant`: composes
 * the exact privacy loss distributions numerically with an FFT, so ε is close to the true value
 * (typically 5–15% below RDP for DP-SGD), with explicit error bounds: the true ε lies in
 * [epsilonLower, epsilonUpper] and `epsilon` is the upper bound. Both neighbouring orders (adding
 * and removing an example) are accounted for, unlike Opacus' implementation, which composes one.
 *
 * @example
 * ```ts
 * const acc = new PrvAccountant({ epsError: 0.01 });
 * acc.step(1.1, 256 / 60000, 10000);
 * const { epsilonLower, epsilonEstimate, epsilonUpper } = acc.getPrivacySpent(1e-5);
 * ```
 *
 * When the grid for `epsError` would exceed MAX_PRV_GRID_SIZE points (large ε over many steps), ε
 * is computed with the tightest error the largest grid allows instead of failing: `epsError` is then
 * larger than `requestedEpsError`, and `warning` (also among `caveats`) says so.
 *
 * @example
 * ```ts
 * // issue #17: ε ≈ 79 after 10,000 steps; the default epsError 0.01 needs more than 2^22 points
 * const spent = new PrvAccountant().step(0.8, 0.05, 10_000).getPrivacySpent(1e-5);
 * spent.epsError; // the error achieved (> 0.01)
 * spent.warning; // 'eps error widened from 0.01 to ...'
 * const [lower, upper] = [spent.epsilonLower, spent.epsilonUpper]; // the true ε lies in between
 * ```
 */
import { composeHistory, prvEpsilonBounds, type PrvComposition, type PrvEpsilonBounds } from '../analysis/prv/compute-prv';
import { MAX_PRV_GRID_SIZE } from '../analysis/prv/prv-grid';
import { parseLedgerFor } from '../ledger-format';
import { checkDelta, checkPositive } from '../validate';
import { ClipwiseAccountantError } from '../errors';
import { BaseAccountant, type AccountantOptions, type PrivacySpent } from './accountant';

export const DEFAULT_EPS_ERROR = 0.01;
export const DEFAULT_DELTA_ERROR_RATIO = 1e-3;

export interface PrvAccountantOptions extends AccountantOptions {
  /** Allowed error in ε (default 0.01): the gap between estimate and each bound. */
  epsError?: number;
  /** Allowed error in δ as a fraction of δ (default 1e-3, i.e. δ_err = δ / 1000). */
  deltaErrorRatio?: number;
}

export interface PrvPrivacySpent extends PrivacySpent {
  /** Lower bound on the true ε. */
  epsilonLower: number;
  /** ε of the discretised composition: the best single estimate. */
  epsilonEstimate: number;
  /** Upper bound on the true ε (= `epsilon`). */
  epsilonUpper: number;
  /** The ε error achieved: the bounds sit this far (plus the δ error's effect) from the estimate. */
  epsError: number;
  /** The ε error asked for (the accountant's `epsError` option). */
  requestedEpsError: number;
  /** Set when `epsError` had to be widened beyond `requestedEpsError` (also listed in `caveats`). */
  warning?: string;
  deltaError: number;
  /** Grid points N and mesh h used by the FFT. */
  gridSize: number;
  mesh: number;
}

const shortNumber = (x: number) => String(Number(x.toPrecision(4)));

/** The caveat of a widened ε error: what was asked, what was achieved, the bounds, and what to pass instead. */
function widenedWarning(bounds: PrvEpsilonBounds, steps: number, gridSize: number): string {
  const used = Math.ceil(bounds.epsError * 1e4) / 1e4;
  return (
    `eps error widened from ${shortNumber(bounds.requestedEpsError)} to ${shortNumber(bounds.epsError)}: the grid for ` +
    `${shortNumber(bounds.requestedEpsError)} over ${steps} steps would need more than the ${gridSize} points allowed ` +
    `(MAX_PRV_GRID_SIZE = ${MAX_PRV_GRID_SIZE}); the true ε lies in [${shortNumber(bounds.lower)}, ${shortNumber(bounds.upper)}] ` +
    `and ε is the upper bound. Pass epsError = ${used} or more to ask for this accuracy explicitly.`
  );
}

export class PrvAccountant extends BaseAccountant<PrvPrivacySpent> {
  readonly mechanism = 'prv';
  readonly epsError: number;
  readonly deltaErrorRatio: number;
  private cached: { revision: number; deltaError: number; composition: PrvComposition } | undefined;

  constructor(options: PrvAccountantOptions = {}) {
    super(options);
    this.epsError = checkPositive(options.epsError ?? DEFAULT_EPS_ERROR, 'epsError', 'a typical value is 0.01.');
    const ratio = options.deltaErrorRatio ?? DEFAULT_DELTA_ERROR_RATIO;
    if (typeof ratio !== 'number' || !(ratio > 0 && ratio < 1)) {
      throw new ClipwiseAccountantError(
        `deltaErrorRatio must be a number in (0, 1), got ${String(ratio)}; the default 0.001 makes δ_err = δ / 1000.`,
        { argument: 'deltaErrorRatio' },
      );
    }
    this.deltaErrorRatio = ratio;
  }

  getPrivacySpent(delta: number): PrvPrivacySpent {
    checkDelta(delta);
    const deltaError = delta * this.deltaErrorRatio;
    if (this.entries.length === 0) {
      return {
        ...this.baseSpent(delta, 0, false, []),
        epsilonLower: 0,
        epsilonEstimate: 0,
        epsilonUpper: 0,
        epsError: this.epsError,
        requestedEpsError: this.epsError,
        deltaError,
        gridSize: 0,
        mesh: 0,
      };
    }
    const composition = this.composition(deltaError);
    const bounds = prvEpsilonBounds(composition, delta);
    const warning = bounds.widened ? widenedWarning(bounds, this.steps, composition.grid.size) : undefined;
    const spent: PrvPrivacySpent = {
      ...this.baseSpent(delta, bounds.upper, false, warning === undefined ? [] : [warning]),
      epsilonLower: bounds.lower,
      epsilonEstimate: bounds.estimate,
      epsilonUpper: bounds.upper,
      epsError: bounds.epsError,
      requestedEpsError: bounds.requestedEpsError,
      deltaError,
      gridSize: composition.grid.size,
      mesh: composition.grid.mesh,
    };
    if (warning !== undefined) spent.warning = warning;
    return spent;
  }

  /** The composed losses for this δ error, reused while the history and δ stay the same. */
  private composition(deltaError: number): PrvComposition {
    const c = this.cached;
    if (c !== undefined && c.revision === this.revision && c.deltaError === deltaError) return c.composition;
    const composition = composeHistory(this.entries, this.epsError, deltaError);
    this.cached = { revision: this.revision, deltaError, composition };
    return composition;
  }

  protected override ledgerOptions(): Record<string, unknown> | undefined {
    const options: Record<string, unknown> = {};
    if (this.epsError !== DEFAULT_EPS_ERROR) options.epsError = this.epsError;
    if (this.deltaErrorRatio !== DEFAULT_DELTA_ERROR_RATIO) options.deltaErrorRatio = this.deltaErrorRatio;
    return Object.keys(options).length > 0 ? options : undefined;
  }

  static fromJSON(ledger: unknown): PrvAccountant {
    const parsed = parseLedgerFor(ledger, 'prv');
    const o = parsed.options ?? {};
    return new PrvAccountant({
      sampling: parsed.sampling,
      epsError: o.epsError as number | undefined,
      deltaErrorRatio: o.deltaErrorRatio as number | undefined,
    }).restore(parsed.history);
  }
}
