import { describe, expect, it } from 'vitest';
import { SHUFFLE_CAVEAT } from './accountants/accountant';
import { GdpAccountant } from './accountants/gdp-accountant';
import { PrvAccountant } from './accountants/prv-accountant';
import { RdpAccountant } from './accountants/rdp-accountant';
import { createAccountant } from './accountants/registry';
import { ClipwiseAccountantError } from './errors';
import { accountantFromLedger, serializeLedger } from './ledger';

describe('ledger', () => {
  it('is versioned plain JSON with a merged history', () => {
    const acc = new RdpAccountant().step(1.1, 0.004, 1000).step(1.1, 0.004, 500).step(0.9, 1 / 3, 7);
    expect(JSON.parse(JSON.stringify(acc))).toEqual({
      version: 1,
      accountant: 'rdp',
      sampling: 'poisson',
      history: [
        { noiseMultiplier: 1.1, sampleRate: 0.004, steps: 1500 },
        { noiseMultiplier: 0.9, sampleRate: 1 / 3, steps: 7 },
      ],
    });
  });

  it.each(['rdp', 'prv', 'gdp'])('%s: a restored accountant reports the identical ε and keeps counting', (name) => {
    const acc = createAccountant(name).step(1.1, 256 / 60000, 70).step(1.3, 0.01 / 3, 30);
    const text = serializeLedger(acc);
    const restored = accountantFromLedger(text);
    expect(restored.mechanism).toBe(name);
    expect(restored.epsilon(1e-5)).toBe(acc.epsilon(1e-5)); // exact, not close
    expect(JSON.stringify(restored)).toBe(JSON.stringify(acc));
    restored.step(1.3, 0.01 / 3, 10);
    acc.step(1.3, 0.01 / 3, 10);
    expect(restored.epsilon(1e-5)).toBe(acc.epsilon(1e-5));
  });

  it('keeps non-default options (custom orders, epsError) and the sampling label', () => {
    const rdp = RdpAccountant.fromJSON(JSON.stringify(new RdpAccountant({ orders: [2, 4, 8], sampling: 'shuffle' }).step(1, 0.1, 5)));
    expect(rdp.orders).toEqual([2, 4, 8]);
    expect(rdp.sampling).toBe('shuffle');
    const prv = PrvAccountant.fromJSON(new PrvAccountant({ epsError: 0.02 }).toJSON());
    expect(prv.epsError).toBe(0.02);
    expect(new PrvAccountant().toJSON().options).toBeUndefined();
  });

  it("flags 'shuffle' sampling in every report (accounted as Poisson, not a proven guarantee)", () => {
    const spent = new GdpAccountant({ sampling: 'shuffle' }).step(1, 0.01, 100).getPrivacySpent(1e-5);
    expect(spent.sampling).toBe('shuffle');
    expect(spent.caveats).toContain(SHUFFLE_CAVEAT);
    expect(new RdpAccountant().step(1, 0.01, 100).getPrivacySpent(1e-5).caveats).toEqual([]);
  });

  it.each([
    ['{"version":1,', /ledger is not valid JSON/],
    ['[1,2]', /ledger must be a JSON object/],
    ['{"version":2,"accountant":"rdp","history":[]}', /ledger version must be 1, got 2.*upgrade the package/],
    ['{"version":1,"accountant":"moments","history":[]}', /unknown accountant "moments"; valid accountants are/],
    ['{"version":1,"history":[]}', /ledger.accountant must be the accountant's name/],
    ['{"version":1,"accountant":"rdp","sampling":"random","history":[]}', /ledger.sampling must be 'poisson' or 'shuffle', got "random"/],
    ['{"version":1,"accountant":"rdp","history":[{"noiseMultiplier":-1,"sampleRate":0.1,"steps":1}]}', /ledger.history\[0\].noiseMultiplier must be a finite number > 0, got -1/],
    ['{"version":1,"accountant":"rdp","history":{}}', /ledger.history must be an array/],
  ])('rejects %s with a clear error', (text, message) => {
    expect(() => accountantFromLedger(text)).toThrow(ClipwiseAccountantError);
    expect(() => accountantFromLedger(text)).toThrow(message);
  });

  it("refuses another accountant's ledger in a class's fromJSON", () => {
    expect(() => PrvAccountant.fromJSON(new RdpAccountant().toJSON())).toThrow(/written by the 'rdp' accountant, not 'prv'/);
  });
});
