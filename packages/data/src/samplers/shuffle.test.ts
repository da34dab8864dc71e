import { describe, expect, it } from 'vitest';
import { ClipwiseDataError } from '../errors.js';
import { ShuffleSampler } from './shuffle.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: Iterable<number>) => Array.from(xs).sort((a, b) => a - b);

describe('ShuffleSampler', () => {
  it('covers every index exactly once per epoch (with a smaller last batch when dropLast is false)', () => {
    const s = new ShuffleSampler({ datasetSize: 103, batchSize: 10, seed: 4, dropLast: false });
    expect(s.sampling).toBe('shuffle');
    expect(s.stepsPerEpoch).toBe(11);
    expect(s.expectedBatchSize).toBe(10);
    const epochs: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const seen: number[] = [];
      for (let k = 0; k < s.stepsPerEpoch; k++) {
        const b = s.nextBatch();
        expect(b.length).toBe(k === 10 ? 3 : 10);
        seen.push(...b);
      }
      expect(sorted(seen)).toEqual(range(103));
      epochs.push(seen);
    }
    expect(epochs[0]).not.toEqual(epochs[1]);
    expect(s.epoch).toBe(3);
  });

  it('drops the remainder with dropLast (the default), keeping batches full', () => {
    const s = new ShuffleSampler({ datasetSize: 25, batchSize: 10, seed: 1 });
    expect(s.stepsPerEpoch).toBe(2);
    const seen = [...s.nextBatch(), ...s.nextBatch()];
    expect(new Set(seen).size).toBe(20);
    expect(s.nextBatch().length).toBe(10);
    expect(s.epoch).toBe(2);
  });

  it('resumes from serialised state mid-epoch and at an epoch boundary with identical batches', () => {
    for (const skip of [0, 3, 4, 9]) {
      const a = new ShuffleSampler({ datasetSize: 40, batchSize: 10, seed: 11 });
      for (let i = 0; i < skip; i++) a.nextBatch();
      const b = ShuffleSampler.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
      expect(b.step).toBe(skip);
      for (let i = 0; i < 10; i++) expect(Array.from(b.nextBatch())).toEqual(Array.from(a.nextBatch()));
    }
  });

  it('rejects impossible options', () => {
    expect(() => new ShuffleSampler({ datasetSize: 5, batchSize: 10, seed: 1 })).toThrow(ClipwiseDataError);
    expect(() => new ShuffleSampler({ datasetSize: 5, batchSize: 0, seed: 1 })).toThrow(/batchSize/);
  });
});
