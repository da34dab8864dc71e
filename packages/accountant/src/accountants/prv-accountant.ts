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
 */
import { composeHistory, prvEpsilonBounds, type PrvComposition } from '../analysis/prv/compute-prv';
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
  epsilonLower: number;
  epsilonEstimate: number;
  epsilonUpper: number;
  epsError: number;
  deltaError: number;
  /** Grid points N and mesh h used by the FFT. */
  gridSize: number;
  mesh: number;
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
        deltaError,
        gridSize: 0,
        mesh: 0,
      };
    }
    const composition = this.composition(deltaError);
    const bounds = prvEpsilonBounds(composition, delta);
    return {
      ...this.baseSpent(delta, bounds.upper, false, []),
      epsilonLower: bounds.lower,
      epsilonEstimate: bounds.estimate,
      epsilonUpper: bounds.upper,
      epsError: this.epsError,
      deltaError,
      gridSize: composition.grid.size,
      mesh: composition.grid.mesh,
    };
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
