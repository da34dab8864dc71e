import { describe, expect, it } from 'vitest';
import { seededUniform } from './__fixtures__/seeded-uniform';
import { thresholdEpsilonLowerBound } from './threshold-audit';

describe('thresholdEpsilonLowerBound (Clopper–Pearson on a membership threshold test)', () => {
  it.each([
    [50, 50],
    [200, 100],
  ])('a perfect test on %i positives / %i negatives, δ = 0, matches the closed form', (nIn, nOut) => {
    const half = 0.05 / 2;
    const tprLower = half ** (1 / nIn);
    const fprUpper = 1 - half ** (1 / nOut);
    const closed = Math.max(Math.log(tprLower / fprUpper), Math.log((1 - fprUpper) / (1 - tprLower)));
    const got = thresholdEpsilonLowerBound({ truePositives: nIn, positives: nIn, falsePositives: 0, negatives: nOut });
    expect(Math.abs(got.epsilonLowerBound - closed)).toBeLessThan(1e-9);
  });

  it('simulated ε-randomised response with 20000 independent trials a side: bound ≤ ε and within 10% of it (ε = 1, 2)', () => {
    for (const epsilon of [1, 2]) {
      const flag = 1 / (1 + Math.exp(-epsilon)); // P[flag | member]; P[flag | non-member] = 1 - flag
      const u = seededUniform(11 + epsilon);
      let tp = 0;
      let fp = 0;
      for (let i = 0; i < 20000; i++) {
        if (u() < flag) tp++;
        if (u() < 1 - flag) fp++;
      }
      const { epsilonLowerBound } = thresholdEpsilonLowerBound({ truePositives: tp, positives: 20000, falsePositives: fp, negatives: 20000 });
      expect(epsilonLowerBound).toBeLessThanOrEqual(epsilon);
      expect(epsilonLowerBound).toBeGreaterThan(0.9 * epsilon);
    }
  });

  it('δ only lowers the bound; a useless test gives 0', () => {
    const counts = { truePositives: 90, positives: 100, falsePositives: 10, negatives: 100 };
    const at = (delta: number) => thresholdEpsilonLowerBound({ ...counts, delta }).epsilonLowerBound;
    expect(at(0.05)).toBeLessThan(at(0));
    expect(thresholdEpsilonLowerBound({ truePositives: 50, positives: 100, falsePositives: 50, negatives: 100 }).epsilonLowerBound).toBe(0);
  });

  it('rejects counts that cannot be', () => {
    expect(() => thresholdEpsilonLowerBound({ truePositives: 5, positives: 4, falsePositives: 0, negatives: 4 })).toThrow(
      /truePositives = 5 cannot exceed positives = 4/,
    );
    expect(() => thresholdEpsilonLowerBound({ truePositives: 1, positives: 4, falsePositives: 0, negatives: 0 })).toThrow(
      /negatives must be a whole number >= 1/,
    );
  });
});
