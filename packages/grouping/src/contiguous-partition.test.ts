import { describe, expect, it } from 'vitest';
import { partitionContiguous } from './contiguous-partition';

/** Every way to cut n items into k non-empty runs, as lists of start indices. */
function allSplits(n: number, k: number): number[][] {
  const out: number[][] = [];
  const pick = (starts: number[]) => {
    if (starts.length === k) return void out.push(starts);
    for (let s = starts[starts.length - 1]! + 1; s <= n - (k - starts.length); s++) pick([...starts, s]);
  };
  pick([0]);
  return out;
}

function maxRunCost(costs: readonly number[], starts: readonly number[]): number {
  return Math.max(
    ...starts.map((s, m) => costs.slice(s, starts[m + 1] ?? costs.length).reduce((a, b) => a + b, 0)),
  );
}

describe('partitionContiguous', () => {
  it('finds the smallest possible largest run, checked by brute force on random inputs', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 8);
      const k = 1 + Math.floor(rand() * n);
      const costs = Array.from({ length: n }, () => Math.floor(rand() * 20));
      const starts = partitionContiguous(costs, k);
      expect(starts).toHaveLength(k);
      expect(starts[0]).toBe(0);
      for (let m = 1; m < k; m++) expect(starts[m]!).toBeGreaterThan(starts[m - 1]!);
      expect(starts[k - 1]!).toBeLessThan(n);
      const best = Math.min(...allSplits(n, k).map((s) => maxRunCost(costs, s)));
      expect(maxRunCost(costs, starts)).toBe(best);
    }
  });

  it('splits equal costs evenly', () => {
    expect(partitionContiguous([1, 1, 1, 1, 1, 1], 3)).toEqual([0, 2, 4]);
    expect(partitionContiguous([4, 1, 1, 1, 1], 2)).toEqual([0, 1]);
  });

  it('rejects k outside 1..n, naming it', () => {
    expect(() => partitionContiguous([1, 2], 3)).toThrow(/into 3 .*1 ≤ k ≤ 2/);
    expect(() => partitionContiguous([1, 2], 0)).toThrow(/into 0/);
  });
});
