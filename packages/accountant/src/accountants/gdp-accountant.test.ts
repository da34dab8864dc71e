import { describe, expect, it } from 'vitest';
import { GdpAccountant } from './gdp-accountant';

describe('GdpAccountant', () => {
  it('uses μ = q √(T (e^{1/σ²} - 1)) and marks its ε as an approximation', () => {
    const spent = new GdpAccountant().step(1.1, 0.01, 1000).getPrivacySpent(1e-5);
    expect(spent.mu).toBeCloseTo(0.01 * Math.sqrt(1000 * Math.expm1(1 / 1.21)), 14);
    expect(spent.approximate).toBe(true);
    expect(spent.caveats.join(' ')).toMatch(/approximation, not an upper bound/);
  });

  it('ε grows with steps and sampling rate and falls with the noise multiplier', () => {
    const eps = (sigma: number, q: number, T: number) => new GdpAccountant().step(sigma, q, T).epsilon(1e-5);
    expect(eps(1, 0.01, 1000)).toBeLessThan(eps(1, 0.01, 2000));
    expect(eps(1, 0.01, 1000)).toBeLessThan(eps(1, 0.02, 1000));
    expect(eps(1, 0.01, 1000)).toBeGreaterThan(eps(1.5, 0.01, 1000));
  });
});
