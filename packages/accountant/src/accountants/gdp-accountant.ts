/**
 * The Gaussian-DP accountant (Dong, Roth & Su 2022; Bu et al. 2020), like Opacus' `GaussianAccountant`.
 * Its ε comes from the central limit theorem: an APPROXIMATION that can understate the true ε
 * (every report has `approximate: true` and says so in `caveats`). Fast and useful for intuition;
 * report RDP or PRV numbers as guarantees.
 *
 * @example
 * ```ts
 * const acc = new GdpAccountant().step(1.3, 256 / 60000, 3516);
 * acc.getPrivacySpent(1e-5).mu; // ≈ 0.227
 * ```
 */
import { gdpEpsilon, gdpMu } from '../analysis/gdp';
import { parseLedgerFor } from '../ledger-format';
import { checkDelta } from '../validate';
import { BaseAccountant, type AccountantOptions, type PrivacySpent } from './accountant';

export const GDP_CAVEAT =
  'GDP uses the central limit theorem (Dong, Roth & Su): an approximation, not an upper bound; it can understate ε, ' +
  'most for few steps or large sampling rates. Use the rdp or prv accountant for a guarantee.';

export interface GdpPrivacySpent extends PrivacySpent {
  /** μ of μ-GDP for the whole history. */
  mu: number;
}

export class GdpAccountant extends BaseAccountant<GdpPrivacySpent> {
  readonly mechanism = 'gdp';

  constructor(options: AccountantOptions = {}) {
    super(options);
  }

  getPrivacySpent(delta: number): GdpPrivacySpent {
    checkDelta(delta);
    const mu = gdpMu(this.entries);
    return { ...this.baseSpent(delta, gdpEpsilon(delta, mu), true, [GDP_CAVEAT]), mu };
  }

  static fromJSON(ledger: unknown): GdpAccountant {
    const parsed = parseLedgerFor(ledger, 'gdp');
    return new GdpAccountant({ sampling: parsed.sampling }).restore(parsed.history);
  }
}
