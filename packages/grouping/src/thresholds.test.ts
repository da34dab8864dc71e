import { describe, expect, it } from 'vitest';
import { checkClipNorm, equalSplit, thresholdsFor, totalSensitivity } from './thresholds';

/** Independent computation of sqrt(Σ C_m²). */
function directSensitivity(cs: readonly number[]): number {
  let sum = 0;
  for (const c of cs) sum += c * c;
  return Math.sqrt(sum);
}

describe('thresholds', () => {
  it('splits C equally as C / sqrt(M), so the total sensitivity is C (rel. tol. 1e-12)', () => {
    for (const [c, m] of [[1, 1], [1, 4], [0.1, 7], [3.5, 150]] as const) {
      const split = equalSplit(c, m);
      expect(split).toHaveLength(m);
      for (const cm of split) expect(cm).toBeCloseTo(c / Math.sqrt(m), 14);
      expect(Math.abs(totalSensitivity(split) - c) / c).toBeLessThan(1e-12);
    }
    expect(equalSplit(1, 4)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('computes sqrt(Σ C_m²) like a direct sum (rel. tol. 1e-12)', () => {
    const cases = [[3, 4], [0.1, 0.2, 0.3], [1e-8, 2e-8], Array.from({ length: 300 }, (_, i) => 0.01 * (i + 1))];
    for (const cs of cases) {
      expect(Math.abs(totalSensitivity(cs) - directSensitivity(cs)) / directSensitivity(cs)).toBeLessThan(1e-12);
    }
    expect(totalSensitivity([3, 4])).toBe(5);
  });

  it('reads explicit thresholds as an array in group order or a record by group name', () => {
    expect(thresholdsFor([1, 2], ['a', 'b'])).toEqual([1, 2]);
    expect(thresholdsFor({ b: 2, a: 1 }, ['a', 'b'])).toEqual([1, 2]);
  });

  it('rejects bad thresholds, naming the value and the group', () => {
    expect(() => thresholdsFor([1], ['a', 'b'])).toThrow(/got 1 threshold\(s\) for 2 group\(s\)/);
    expect(() => thresholdsFor([1, 0], ['a', 'b'])).toThrow(/group 'b' is 0; expected a finite number > 0/);
    expect(() => thresholdsFor([1, Infinity], ['a', 'b'])).toThrow(/'b' is Infinity/);
    expect(() => thresholdsFor({ a: 1, c: 2 }, ['a', 'b'])).toThrow(/group 'c', which this grouping does not have; expected one of 'a', 'b'/);
    expect(() => thresholdsFor({ a: 1 }, ['a', 'b'])).toThrow(/miss group\(s\) 'b'/);
  });

  it('rejects a clipping norm that is not finite and > 0, naming it', () => {
    for (const bad of [0, -1, Number.NaN, Infinity, undefined, '1']) {
      expect(() => checkClipNorm(bad)).toThrow(new RegExp(`clipNorm is ${String(bad)};`));
    }
  });
});
