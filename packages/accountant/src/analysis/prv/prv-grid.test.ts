import { describe, expect, it } from 'vitest';
import { choosePrvGrid, MAX_PRV_GRID_SIZE } from './prv-grid';

// issue #17: q = 0.05, σ = 0.8, T = 10,000 (ε ≈ 79 at δ = 1e-5); δ_err = δ / 1000.
const ISSUE_17 = [{ noiseMultiplier: 0.8, sampleRate: 0.05, steps: 10_000 }];

describe('choosePrvGrid', () => {
  it('keeps the asked ε error when its grid fits', () => {
    const grid = choosePrvGrid(ISSUE_17, 0.2, 1e-8);
    expect(grid.epsError).toBe(0.2);
    expect(grid.requestedEpsError).toBe(0.2);
    expect(grid.size).toBeLessThan(MAX_PRV_GRID_SIZE);
  });

  it('widens the ε error to the tightest the largest grid allows, instead of refusing', () => {
    const grid = choosePrvGrid(ISSUE_17, 0.01, 1e-8);
    expect(grid.requestedEpsError).toBe(0.01);
    expect(grid.size).toBe(MAX_PRV_GRID_SIZE);
    expect(grid.epsError).toBeGreaterThan(0.01);
    // the achieved error fits as asked; 0.1% less would be widened again (bisection tolerance 1e-9 relative)
    expect(choosePrvGrid(ISSUE_17, grid.epsError, 1e-8).epsError).toBe(grid.epsError);
    expect(choosePrvGrid(ISSUE_17, grid.epsError * 0.999, 1e-8).epsError).toBeCloseTo(grid.epsError, 8);
  });

  it('caps the grid where rounding would exceed the δ error budget (N · 2^-52 <= δ_err / 8) and widens there', () => {
    // δ_err = 1e-10 allows N <= 56,294, i.e. 2^15 points
    const grid = choosePrvGrid([{ noiseMultiplier: 1, sampleRate: 0.01, steps: 1000 }], 0.01, 1e-10);
    expect(grid.size).toBe(2 ** 15);
    expect(grid.epsError).toBeGreaterThan(0.01);
  });
});
