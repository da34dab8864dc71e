import { parseE2ECsv, type E2EPair } from '@clipwise/data';
import { describe, expect, it } from 'vitest';
import { e2eCsv, splitByMr } from './mr-split';

const pairs: E2EPair[] = Array.from({ length: 40 }, (_, i) => ({ mr: `name[R${i % 13}], food[Thai]`, ref: `R${i % 13} serves "Thai", ref ${i}.` }));

describe('splitByMr', () => {
  const { train, val } = splitByMr(pairs, 0.25, 7);

  it('puts no MR in both parts and keeps every pair once', () => {
    const trainMrs = new Set(train.map((p) => p.mr));
    expect(val.some((p) => trainMrs.has(p.mr))).toBe(false);
    expect(train.length + val.length).toBe(pairs.length);
    expect(new Set([...train, ...val].map((p) => p.ref)).size).toBe(pairs.length);
  });

  it('gives validation a fraction of the MRs with all their references', () => {
    const valMrs = new Set(val.map((p) => p.mr));
    expect(valMrs.size).toBe(3); // round(0.25 × 13)
    expect(val).toHaveLength(pairs.filter((p) => valMrs.has(p.mr)).length);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(splitByMr(pairs, 0.25, 7)).toEqual({ train, val });
    expect(splitByMr(pairs, 0.25, 8).val).not.toEqual(val);
  });

  it('never empties a part, and rejects a fraction outside (0, 1)', () => {
    expect(splitByMr(pairs, 0.99, 1).train.length).toBeGreaterThan(0);
    expect(splitByMr(pairs, 0.001, 1).val.length).toBeGreaterThan(0);
    expect(() => splitByMr(pairs, 1, 1)).toThrow(/valFraction/);
  });
});

describe('e2eCsv', () => {
  it('writes CSV that parseE2ECsv reads back (commas and quotes inside fields)', () => {
    expect(parseE2ECsv(e2eCsv(pairs), 'x.csv')).toEqual(pairs);
  });
});
