import { expect } from 'vitest';

/**
 * Two steps' values by parameter name agree up to float32 rounding (relative L2 error below `tol`):
 * the same sums formed by another path (partials summed in another order).
 */
export function expectSameValues(got: ReadonlyMap<string, ArrayLike<number>>, want: ReadonlyMap<string, ArrayLike<number>>, tol = 1e-5): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, w] of want) {
    const g = got.get(name)!;
    let num = 0;
    let den = 0;
    for (let k = 0; k < w.length; k++) {
      num += (g[k]! - w[k]!) ** 2;
      den += w[k]! ** 2;
    }
    expect(Math.sqrt(num / Math.max(den, 1e-30)), name).toBeLessThan(tol);
  }
}
