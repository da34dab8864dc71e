import { describe, expect, it } from 'vitest';
import { PrvAccountant } from './prv-accountant';
import { RdpAccountant } from './rdp-accountant';

describe('PrvAccountant', () => {
  it('reports lower <= estimate <= upper = epsilon, below RDP, with its error budget', () => {
    const acc = new PrvAccountant().step(1.1, 256 / 60000, 3000);
    const spent = acc.getPrivacySpent(1e-5);
    expect(spent.epsilonLower).toBeLessThanOrEqual(spent.epsilonEstimate);
    expect(spent.epsilonEstimate).toBeLessThanOrEqual(spent.epsilonUpper);
    expect(spent.epsilon).toBe(spent.epsilonUpper);
    expect(spent.epsError).toBe(0.01);
    expect(spent.deltaError).toBeCloseTo(1e-8, 20);
    expect(spent.gridSize).toBeGreaterThan(0);
    expect(spent.epsilon).toBeLessThan(new RdpAccountant().step(1.1, 256 / 60000, 3000).epsilon(1e-5));
  });

  it('ε grows with steps and sampling rate and falls with the noise multiplier', () => {
    const eps = (sigma: number, q: number, T: number) => new PrvAccountant().step(sigma, q, T).getPrivacySpent(1e-5).epsilonEstimate;
    expect(eps(1.0, 0.01, 200)).toBeLessThan(eps(1.0, 0.01, 400));
    expect(eps(1.0, 0.01, 200)).toBeLessThan(eps(1.0, 0.02, 200));
    expect(eps(1.0, 0.01, 200)).toBeGreaterThan(eps(1.2, 0.01, 200));
  });

  it('a smaller epsError narrows the bracket', () => {
    const coarse = new PrvAccountant({ epsError: 0.05 }).step(1, 0.01, 300).getPrivacySpent(1e-5);
    const fine = new PrvAccountant({ epsError: 0.005 }).step(1, 0.01, 300).getPrivacySpent(1e-5);
    expect(fine.epsilonUpper - fine.epsilonLower).toBeLessThan(coarse.epsilonUpper - coarse.epsilonLower);
    expect(Math.abs(fine.epsilonEstimate - coarse.epsilonEstimate)).toBeLessThan(0.05);
  });

  it('reuses its composition for repeated queries and recomputes after a step', () => {
    const acc = new PrvAccountant().step(1, 0.01, 100);
    const a = acc.epsilon(1e-5);
    expect(acc.epsilon(1e-5)).toBe(a);
    acc.step(1, 0.01, 100);
    expect(acc.epsilon(1e-5)).toBeGreaterThan(a);
  });

  it('validates its options', () => {
    expect(() => new PrvAccountant({ epsError: 0 })).toThrow(/epsError must be a finite number > 0, got 0/);
    expect(() => new PrvAccountant({ deltaErrorRatio: 2 })).toThrow(/deltaErrorRatio must be a number in \(0, 1\), got 2/);
    expect(new PrvAccountant().epsilon(1e-5)).toBe(0);
  });
});
