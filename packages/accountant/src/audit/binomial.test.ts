import { describe, expect, it } from 'vitest';
import { exactBinomialRange, toNumber } from './__fixtures__/exact-binomial';
import { binomialLowerTail, binomialPmf, binomialUpperTail, logFactorial } from './binomial';

// p = a / b, so the BigInt reference is exact; n = 300 crosses into the Stirling branch of log n!.
const CASES: Array<[n: number, a: number, b: number]> = [
  [1, 1, 3],
  [7, 3, 7],
  [50, 9, 10],
  [50, 1, 1000],
  [300, 1, 3],
  [300, 731, 1000],
];

describe('binomial probabilities (float64) against exact rational sums (BigInt)', () => {
  it.each(CASES)('n=%i, p=%i/%i: pmf and both tails at every k, relative error < 1e-11', (n, a, b) => {
    const p = a / b;
    for (let k = 0; k <= n; k++) {
      const cases: Array<[number, number]> = [
        [binomialPmf(k, n, p), toNumber(exactBinomialRange(k, k, n, a, b))],
        [binomialUpperTail(k, n, p), toNumber(exactBinomialRange(k, n, n, a, b))],
        [binomialLowerTail(k, n, p), toNumber(exactBinomialRange(0, k, n, a, b))],
      ];
      for (const [got, want] of cases) {
        if (want < 1e-280) expect(got).toBeLessThan(1e-270);
        else expect(Math.abs(got - want) / want).toBeLessThan(1e-11);
      }
    }
  });

  it('log n! matches a running sum of logs to 1e-13 relative, across the table/Stirling switch', () => {
    let sum = 0;
    for (let n = 1; n <= 5000; n++) {
      sum += Math.log(n);
      expect(Math.abs(logFactorial(n) - sum)).toBeLessThanOrEqual(1e-13 * sum + 1e-15);
    }
  });

  it('tails outside 0..n and at p = 0 or 1 are the obvious 0 / 1', () => {
    expect(binomialUpperTail(0, 10, 0.3)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.3)).toBe(0);
    expect(binomialLowerTail(-1, 10, 0.3)).toBe(0);
    expect(binomialLowerTail(10, 10, 0.3)).toBeCloseTo(1, 14);
    expect(binomialUpperTail(10, 10, 1)).toBe(1);
    expect(binomialUpperTail(1, 10, 0)).toBe(0);
  });

  it('a tail of 1e-200 keeps its precision (no cancellation against 1)', () => {
    // P[X >= 300] = p^300 for n = 300
    expect(Math.abs(binomialUpperTail(300, 300, 0.2) / 0.2 ** 300 - 1)).toBeLessThan(1e-11);
  });
});
