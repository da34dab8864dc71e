import { describe, expect, it } from 'vitest';
import { RdpAccountant } from './rdp-accountant';

describe('RdpAccountant', () => {
  it('q = 1 gives the Gaussian closed form: ε = min_α Tα/(2σ²) + log(1 - 1/α) - log(δα)/(α - 1) (1e-12)', () => {
    const [sigma, T, delta] = [3, 20, 1e-5];
    const acc = new RdpAccountant().step(sigma, 1, T);
    let best = Infinity;
    for (const a of acc.orders) best = Math.min(best, (T * a) / (2 * sigma * sigma) + Math.log(1 - 1 / a) - Math.log(delta * a) / (a - 1));
    expect(acc.epsilon(delta)).toBeCloseTo(best, 12);
  });

  it('ε grows with steps and sampling rate and falls with the noise multiplier', () => {
    const eps = (sigma: number, q: number, T: number) => new RdpAccountant().step(sigma, q, T).epsilon(1e-5);
    expect(eps(1.1, 0.004, 2000)).toBeLessThan(eps(1.1, 0.004, 4000));
    expect(eps(1.1, 0.004, 2000)).toBeLessThan(eps(1.1, 0.008, 2000));
    expect(eps(1.1, 0.004, 2000)).toBeGreaterThan(eps(1.3, 0.004, 2000));
  });

  it('composes heterogeneous steps (σ or q changed mid-run) by adding RDP', () => {
    const mixed = new RdpAccountant().step(1.0, 0.01, 300).step(2.0, 0.02, 200);
    const a = new RdpAccountant().step(1.0, 0.01, 300).getRdp();
    const b = new RdpAccountant().step(2.0, 0.02, 200).getRdp();
    const sum = mixed.getRdp();
    for (let k = 0; k < sum.length; k++) expect(sum[k]).toBeCloseTo(a[k] + b[k], 12);
    expect(mixed.history).toHaveLength(2);
    expect(mixed.steps).toBe(500);
  });

  it('a million steps is one history entry and the same ε as one step scaled (RDP composes linearly)', () => {
    const acc = new RdpAccountant();
    acc.step(0.8, 0.001, 1_000_000);
    expect(acc.history).toEqual([{ noiseMultiplier: 0.8, sampleRate: 0.001, steps: 1_000_000 }]);
    const spent = acc.getPrivacySpent(1e-6);
    expect(spent.epsilon).toBeGreaterThan(0);
    expect(Number.isFinite(spent.epsilon)).toBe(true);
    expect(acc.orders).toContain(spent.bestOrder);
  });

  it('reports ε = 0 before any step and flags a best order at the end of a custom grid', () => {
    expect(new RdpAccountant().epsilon(1e-5)).toBe(0);
    const narrow = new RdpAccountant({ orders: [2, 3] }).step(1, 0.01, 100);
    const spent = narrow.getPrivacySpent(1e-5);
    expect(spent.bestOrder).toBe(3);
    expect(spent.caveats.join(' ')).toMatch(/end of the order grid/);
  });

  it('rejects bad orders and bad δ with messages naming the value and the range', () => {
    expect(() => new RdpAccountant({ orders: [1, 2] })).toThrow(/orders must contain only finite numbers > 1.*got 1/);
    expect(() => new RdpAccountant().epsilon(0)).toThrow(/delta must be a number in \(0, 1\), got 0/);
    expect(() => new RdpAccountant().epsilon(1)).toThrow(/delta must be a number in \(0, 1\), got 1/);
  });

  it('getDelta inverts epsilon', () => {
    const acc = new RdpAccountant().step(1.1, 0.004, 5000);
    const eps = acc.epsilon(1e-5);
    expect(acc.getDelta(eps).delta / 1e-5).toBeCloseTo(1, 8);
  });
});
