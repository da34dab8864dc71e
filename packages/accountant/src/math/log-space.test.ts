import { describe, expect, it } from 'vitest';
import { logAdd, logSub, logSumExp } from './log-space';

describe('log-space arithmetic', () => {
  it('adds and subtracts like the linear operations (1e-15 relative)', () => {
    expect(logAdd(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 15);
    expect(logSub(Math.log(5), Math.log(3))).toBeCloseTo(Math.log(2), 15);
    expect(logAdd(-Infinity, 1.5)).toBe(1.5);
    expect(logSub(2, -Infinity)).toBe(2);
    expect(logSub(2, 2)).toBe(-Infinity);
  });

  it('does not overflow where e^x would', () => {
    expect(logAdd(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp([1000, 1000, 1000])).toBeCloseTo(1000 + Math.log(3), 12);
    expect(logSub(1000, 1000 - Math.LN2)).toBeCloseTo(1000 - Math.LN2, 12);
  });

  it('keeps precision when b is just below a', () => {
    // log(e^0 - e^{-1e-10}) = log(1 - e^{-1e-10}) ≈ log(1e-10 - 5e-21).
    expect(logSub(0, -1e-10)).toBeCloseTo(Math.log(1e-10 - 5e-21), 12);
  });

  it('refuses b > a and handles empty input', () => {
    expect(() => logSub(0, 1)).toThrow(RangeError);
    expect(logSumExp([])).toBe(-Infinity);
  });
});
