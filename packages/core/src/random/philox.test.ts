import { describe, expect, it } from 'vitest';
import { philox4x32, philoxNormals } from './philox';

describe('philox4x32', () => {
  // Known-answer vectors of Random123's kat_vectors (philox4x32, 10 rounds).
  it('matches the Random123 known-answer vectors', () => {
    const hex = (w: number[]) => w.map((x) => x.toString(16).padStart(8, '0'));
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toEqual([
      '408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd',
    ]);
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toEqual([
      'd16cfe09', '94fdcceb', '5001e420', '24126ea1',
    ]);
  });
});

describe('philoxNormals', () => {
  it('is standard normal: mean, variance, tail mass and independence of adjacent draws', () => {
    const n = 200_000;
    const z = philoxNormals(n, 1234, 0);
    let s = 0, s2 = 0, tail = 0, lag = 0;
    for (let i = 0; i < n; i++) {
      s += z[i]!;
      s2 += z[i]! * z[i]!;
      if (Math.abs(z[i]!) > 1.959964) tail++;
      if (i > 0) lag += z[i]! * z[i - 1]!;
    }
    // 5-sigma bounds of the sampling error for n draws of N(0, 1)
    expect(Math.abs(s / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(tail / n - 0.05)).toBeLessThan(5 * Math.sqrt((0.05 * 0.95) / n));
    expect(Math.abs(lag / n)).toBeLessThan(5 / Math.sqrt(n));
  });

  it('is a pure function of (seed, stream, index): prefixes agree, streams and seeds differ', () => {
    const a = philoxNormals(10, 7, 3);
    expect(Array.from(philoxNormals(6, 7, 3))).toEqual(Array.from(a.subarray(0, 6)));
    expect(philoxNormals(10, 7, 4)[0]).not.toBe(a[0]);
    expect(philoxNormals(10, 8, 3)[0]).not.toBe(a[0]);
  });
});
