import { describe, expect, it } from 'vitest';
import { rdpToEpsilon } from '../analysis/rdp-conversion';
import { accountantFromLedger } from '../ledger';
import { BaseAccountant, type AccountantLedger, type PrivacySpent } from './accountant';
import { GdpAccountant } from './gdp-accountant';
import { PrvAccountant } from './prv-accountant';
import { RdpAccountant } from './rdp-accountant';
import { createAccountant, getAccountantFactory, listAccountants, registerAccountant } from './registry';

describe('accountant registry', () => {
  it('has the built-ins under their names', () => {
    expect(listAccountants()).toEqual(expect.arrayContaining(['rdp', 'prv', 'gdp']));
    expect(createAccountant('rdp')).toBeInstanceOf(RdpAccountant);
    expect(createAccountant('prv', { epsError: 0.02 })).toBeInstanceOf(PrvAccountant);
    expect(createAccountant('gdp')).toBeInstanceOf(GdpAccountant);
    expect(getAccountantFactory('gdp').approximate).toBe(true);
  });

  it('names the valid accountants when asked for an unknown one', () => {
    expect(() => createAccountant('moments')).toThrow(/unknown accountant "moments"; valid accountants are 'rdp', 'prv', 'gdp'/);
  });

  it('accepts a contributor accountant the same way, ledger included', () => {
    // A deliberately loose accountant: the Gaussian mechanism without subsampling, at one order.
    class NoAmplificationAccountant extends BaseAccountant {
      readonly mechanism = 'no-amplification';
      getPrivacySpent(delta: number): PrivacySpent {
        let rdp = 0;
        for (const e of this.history) rdp += (e.steps * 32) / (2 * e.noiseMultiplier ** 2);
        return this.baseSpent(delta, rdpToEpsilon([32], [rdp], delta).epsilon, false, []);
      }
      static fromJSON(ledger: AccountantLedger): NoAmplificationAccountant {
        const acc = new NoAmplificationAccountant({ sampling: ledger.sampling });
        for (const e of ledger.history) acc.step(e.noiseMultiplier, e.sampleRate, e.steps);
        return acc;
      }
    }
    registerAccountant({
      name: 'no-amplification',
      create: (options) => new NoAmplificationAccountant(options),
      fromJSON: (ledger) => NoAmplificationAccountant.fromJSON(ledger),
    });
    const acc = createAccountant('no-amplification').step(10, 0.1, 10);
    expect(acc.epsilon(1e-5)).toBeGreaterThan(new RdpAccountant().step(10, 0.1, 10).epsilon(1e-5));
    const restored = accountantFromLedger(JSON.stringify(acc));
    expect(restored).toBeInstanceOf(NoAmplificationAccountant);
    expect(restored.epsilon(1e-5)).toBe(acc.epsilon(1e-5));
    expect(() => registerAccountant({ name: 'Bad Name', create: () => acc, fromJSON: () => acc })).toThrow(/lower-case letters/);
  });
});
