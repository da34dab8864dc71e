/**
 * The RDP accountant (Mironov 2017; the subsampled Gaussian analysis of Mironov, Talwar & Zhang
 * 2019; conversion of Balle et al. 2020), like Opacus' `RDPAccountant` and TF Privacy's
 * `RdpAccountant`. An upper bound on ε: never smaller than the truth.
 *
 * @example
 * ```ts
 * const acc = new RdpAccountant();
 * acc.step(1.1, 256 / 60000, 14063);
 * acc.getPrivacySpent(1e-5); // { epsilon: 2.5966…, bestOrder: 8.1, … }
 * ```
 */
import { perStepRdp } from '../analysis/rdp';
import { rdpToDelta, rdpToEpsilon, type RdpDelta } from '../analysis/rdp-conversion';
import { checkOrders, DEFAULT_RDP_ORDERS } from '../analysis/rdp-orders';
import { parseLedgerFor } from '../ledger-format';
import { checkDelta } from '../validate';
import { BaseAccountant, type AccountantOptions, type PrivacySpent } from './accountant';

export interface RdpAccountantOptions extends AccountantOptions {
  /** Rényi orders to optimise over (each > 1); DEFAULT_RDP_ORDERS when omitted. */
  orders?: readonly number[];
}

export interface RdpPrivacySpent extends PrivacySpent {
  /** The order α at which ε is smallest. */
  bestOrder: number;
  conversion: 'balle2020';
}

function sameOrders(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class RdpAccountant extends BaseAccountant<RdpPrivacySpent> {
  readonly mechanism = 'rdp';
  readonly orders: readonly number[];
  private readonly perStepCache = new Map<string, Float64Array>();

  constructor(options: RdpAccountantOptions = {}) {
    super(options);
    this.orders = options.orders === undefined ? DEFAULT_RDP_ORDERS : checkOrders(options.orders);
  }

  /** Total RDP of the history at each of `this.orders`. */
  getRdp(): Float64Array {
    const total = new Float64Array(this.orders.length);
    for (const e of this.entries) {
      const key = `${e.noiseMultiplier}|${e.sampleRate}`;
      let perStep = this.perStepCache.get(key);
      if (perStep === undefined) {
        perStep = perStepRdp(e.sampleRate, e.noiseMultiplier, this.orders);
        this.perStepCache.set(key, perStep);
      }
      for (let k = 0; k < total.length; k++) total[k] += e.steps * perStep[k];
    }
    return total;
  }

  getPrivacySpent(delta: number): RdpPrivacySpent {
    checkDelta(delta);
    const { epsilon, order } = rdpToEpsilon(this.orders, this.getRdp(), delta);
    const caveats: string[] = [];
    const lo = Math.min(...this.orders);
    const hi = Math.max(...this.orders);
    if (this.entries.length > 0 && epsilon > 0 && (order === lo || order === hi)) {
      caveats.push(`the best RDP order α = ${order} is at the end of the order grid [${lo}, ${hi}]; add orders beyond it for a tighter ε.`);
    }
    return { ...this.baseSpent(delta, epsilon, false, caveats), bestOrder: order, conversion: 'balle2020' };
  }

  /** The smallest δ at which the history is (ε, δ)-DP, by the same conversion. */
  getDelta(epsilon: number): RdpDelta {
    return rdpToDelta(this.orders, this.getRdp(), epsilon);
  }

  protected override ledgerOptions(): Record<string, unknown> | undefined {
    return sameOrders(this.orders, DEFAULT_RDP_ORDERS) ? undefined : { orders: [...this.orders] };
  }

  /** Restores an accountant from its ledger (object or JSON text). */
  static fromJSON(ledger: unknown): RdpAccountant {
    const parsed = parseLedgerFor(ledger, 'rdp');
    const orders = parsed.options?.orders as number[] | undefined;
    return new RdpAccountant({ sampling: parsed.sampling, orders }).restore(parsed.history);
  }
}
