import { describe, expect, it } from 'vitest';
import { ClipwiseAccountantError } from '../errors';
import { exactBinomialRange, toNumber } from './__fixtures__/exact-binomial';
import { seededUniform } from './__fixtures__/seeded-uniform';
import { clopperPearsonLower, clopperPearsonUpper } from './clopper-pearson';

const SCALE = 1e12;
/** Exact P[Binomial(n, p) in from..to] at the rational p = round(p·1e12) / 1e12. */
const exactAt = (from: number, to: number, n: number, p: number) => toNumber(exactBinomialRange(from, to, n, Math.round(p * SCALE), SCALE));

describe('Clopper–Pearson one-sided bounds', () => {
  it.each([10, 100, 1000])('closed forms at the edges, n = %i: upper(0) = 1 - α^(1/n), lower(n) = α^(1/n)', (n) => {
    const alpha = 0.05;
    expect(Math.abs(clopperPearsonUpper(0, n, alpha) - (1 - alpha ** (1 / n)))).toBeLessThan(1e-15);
    expect(Math.abs(clopperPearsonLower(n, n, alpha) - alpha ** (1 / n))).toBeLessThan(1e-15);
    expect(clopperPearsonUpper(n, n, alpha)).toBe(1);
    expect(clopperPearsonLower(0, n, alpha)).toBe(0);
  });

  it.each([
    [3, 10, 0.05],
    [17, 40, 0.1],
    [1, 50, 0.025],
    [49, 50, 0.025],
  ])('k=%i of n=%i, α=%f: the exact binomial tail crosses α between bound ± 1e-9', (k, n, alpha) => {
    const up = clopperPearsonUpper(k, n, alpha);
    expect(exactAt(0, k, n, up - 1e-9)).toBeGreaterThan(alpha);
    expect(exactAt(0, k, n, up + 1e-9)).toBeLessThan(alpha);
    const low = clopperPearsonLower(k, n, alpha);
    expect(exactAt(k, n, n, low - 1e-9)).toBeLessThan(alpha);
    expect(exactAt(k, n, n, low + 1e-9)).toBeGreaterThan(alpha);
  });

  it('covers: over 1000 simulated Binomial(40, 0.3) draws the 90% upper bound misses 0.3 at most ~10% of the time', () => {
    const u = seededUniform(7);
    let missUpper = 0;
    let missLower = 0;
    for (let t = 0; t < 1000; t++) {
      let k = 0;
      for (let i = 0; i < 40; i++) if (u() < 0.3) k++;
      if (clopperPearsonUpper(k, 40, 0.1) < 0.3) missUpper++;
      if (clopperPearsonLower(k, 40, 0.1) > 0.3) missLower++;
    }
    // exact: each miss rate is at most 0.1 (conservative); 3 standard deviations of slack
    expect(missUpper).toBeLessThanOrEqual(128);
    expect(missLower).toBeLessThanOrEqual(128);
    expect(missUpper + missLower).toBeGreaterThan(60); // not vacuous: the bounds are near 10% each
  });

  it('rejects bad counts and levels', () => {
    expect(() => clopperPearsonUpper(11, 10, 0.05)).toThrow(/successes = 11 cannot exceed trials = 10/);
    expect(() => clopperPearsonLower(1, 0, 0.05)).toThrow(/trials must be a whole number >= 1/);
    expect(() => clopperPearsonUpper(1, 10, 0)).toThrow(ClipwiseAccountantError);
    expect(() => clopperPearsonUpper(1, 10, 1.5)).toThrow(/alpha must be a number in \(0, 1\)/);
  });
});
