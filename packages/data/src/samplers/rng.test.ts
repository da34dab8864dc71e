import { describe, expect, it } from 'vitest';
import { ClipwiseDataError } from '../errors.js';
import { SeededRng } from './rng.js';

describe('SeededRng', () => {
  it('matches the xoshiro128** reference outputs for state [1, 2, 3, 4]', () => {
    // Hand-computed from the reference C code (prng.di.unimi.it/xoshiro128starstar.c).
    const rng = SeededRng.fromState({ algorithm: 'xoshiro128**', words: [1, 2, 3, 4] });
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('gives equal streams for equal seeds and different ones otherwise', () => {
    const a = SeededRng.fromSeed(123);
    const b = SeededRng.fromSeed(123);
    const c = SeededRng.fromSeed(124);
    const xa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xa);
  });

  it('resumes the same stream from a JSON round trip of its state', () => {
    const rng = SeededRng.fromSeed(9);
    for (let i = 0; i < 17; i++) rng.normal();
    const resumed = SeededRng.fromState(JSON.parse(JSON.stringify(rng.state())));
    expect(Array.from({ length: 20 }, () => resumed.uniform())).toEqual(Array.from({ length: 20 }, () => rng.uniform()));
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12 (5 standard errors)', () => {
    const rng = SeededRng.fromSeed(1);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outOfRange++;
      sum += u;
      sumSq += u * u;
    }
    const mean = sum / n;
    expect(outOfRange).toBe(0);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / n));
  });

  it('draws normals with mean 0 and variance 1 (5 standard errors)', () => {
    const rng = SeededRng.fromSeed(2);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('nextInt covers [0, n) uniformly and permutation is a permutation', () => {
    const rng = SeededRng.fromSeed(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.nextInt(7)]++;
    // Each count ~ Binomial(70000, 1/7): sd ≈ 92.6; allow 5 sd.
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(5 * 92.6);
    const p = rng.permutation(1000);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('rejects bad seeds and states with a ClipwiseDataError', () => {
    expect(() => SeededRng.fromSeed(-1)).toThrow(ClipwiseDataError);
    expect(() => SeededRng.fromSeed(1.5)).toThrow(/seed must be an integer/);
    expect(() => SeededRng.fromState({ algorithm: 'xoshiro128**', words: [0, 0, 0, 0] })).toThrow(/not a valid/);
  });
});
