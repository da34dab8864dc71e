import { describe, expect, it } from 'vitest';
import { ClipwiseDataError } from '../errors.js';
import { PoissonSampler } from './poisson.js';

describe('PoissonSampler', () => {
  const datasetSize = 2000;
  const sampleRate = 0.05;
  const steps = 4000;

  // One long run shared by the statistical checks (fixed seed, so the outcome is deterministic).
  const sampler = new PoissonSampler({ datasetSize, sampleRate, seed: 2024 });
  const sizes: number[] = [];
  const inclusions = new Float64Array(datasetSize);
  for (let s = 0; s < steps; s++) {
    const batch = sampler.nextBatch();
    sizes.push(batch.length);
    for (const i of batch) inclusions[i]++;
  }

  it('labels itself and reports q·N as the expected batch size', () => {
    expect(sampler.sampling).toBe('poisson');
    expect(sampler.expectedBatchSize).toBeCloseTo(100, 12);
    expect(sampler.step).toBe(steps);
  });

  it('has batch sizes with mean qN and variance qN(1-q) (5 standard errors)', () => {
    const mu = sampleRate * datasetSize; // 100
    const sigma2 = mu * (1 - sampleRate); // 95
    const mean = sizes.reduce((a, b) => a + b, 0) / steps;
    const variance = sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / (steps - 1);
    // SE of the mean: sqrt(σ²/steps); SE of the sample variance ≈ σ²·sqrt(2/(steps-1)) (near-normal sizes).
    expect(Math.abs(mean - mu)).toBeLessThan(5 * Math.sqrt(sigma2 / steps));
    expect(Math.abs(variance - sigma2)).toBeLessThan(5 * sigma2 * Math.sqrt(2 / (steps - 1)));
  });

  it('includes every index with frequency ≈ q (5 sd per index, and a chi-square check)', () => {
    const sd = Math.sqrt(steps * sampleRate * (1 - sampleRate)); // ≈ 13.8
    let chi2 = 0;
    for (const count of inclusions) {
      expect(Math.abs(count - steps * sampleRate)).toBeLessThan(5 * sd);
      chi2 += (count - steps * sampleRate) ** 2 / sd ** 2;
    }
    // chi2 ~ χ²(N) with mean N and sd sqrt(2N) ≈ 63: allow 5 sd.
    expect(Math.abs(chi2 - datasetSize)).toBeLessThan(5 * Math.sqrt(2 * datasetSize));
  });

  it('returns strictly ascending, in-range indices', () => {
    const s = new PoissonSampler({ datasetSize: 50, sampleRate: 0.3, seed: 5 });
    for (let k = 0; k < 100; k++) {
      const b = s.nextBatch();
      for (let i = 0; i < b.length; i++) {
        expect(b[i]).toBeGreaterThanOrEqual(0);
        expect(b[i]).toBeLessThan(50);
        if (i > 0) expect(b[i]).toBeGreaterThan(b[i - 1]);
      }
    }
  });

  it('can draw empty batches and full batches at the extremes', () => {
    const tiny = new PoissonSampler({ datasetSize: 10, sampleRate: 0.001, seed: 1 });
    const sizesTiny = Array.from({ length: 200 }, () => tiny.nextBatch().length);
    expect(sizesTiny).toContain(0);
    const all = new PoissonSampler({ datasetSize: 10, sampleRate: 1, seed: 1 });
    expect(Array.from(all.nextBatch())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('resumes from serialised state with the identical next batches', () => {
    const a = new PoissonSampler({ datasetSize: 5000, sampleRate: 0.01, seed: 77 });
    for (let i = 0; i < 13; i++) a.nextBatch();
    const saved = JSON.parse(JSON.stringify(a.toJSON()));
    const b = PoissonSampler.fromJSON(saved);
    expect(b.step).toBe(13);
    for (let i = 0; i < 20; i++) expect(Array.from(b.nextBatch())).toEqual(Array.from(a.nextBatch()));
    // A fresh sampler with the same seed reproduces the whole stream.
    const c = new PoissonSampler({ datasetSize: 5000, sampleRate: 0.01, seed: 77 });
    const d = new PoissonSampler({ datasetSize: 5000, sampleRate: 0.01, seed: 77 });
    expect(Array.from(c.nextBatch())).toEqual(Array.from(d.nextBatch()));
  });

  it('splits a logical batch into micro-batches under the cap', () => {
    const s = new PoissonSampler({ datasetSize: 1000, sampleRate: 0.2, seed: 3 });
    const batch = s.nextBatch();
    const micro = s.physicalBatches(batch, 32);
    expect(micro.every((m) => m.length <= 32 && m.length > 0)).toBe(true);
    expect(micro.flatMap((m) => Array.from(m))).toEqual(Array.from(batch));
    expect(s.physicalBatches(new Int32Array(0), 32)).toEqual([]);
    expect(() => s.physicalBatches(batch, 0)).toThrow(/maxPhysicalBatchSize/);
  });

  it('rejects bad options with a ClipwiseDataError naming the value', () => {
    expect(() => new PoissonSampler({ datasetSize: 10, sampleRate: 0, seed: 1 })).toThrow(ClipwiseDataError);
    expect(() => new PoissonSampler({ datasetSize: 10, sampleRate: 1.5, seed: 1 })).toThrow(/got 1.5/);
    expect(() => new PoissonSampler({ datasetSize: 0, sampleRate: 0.1, seed: 1 })).toThrow(/datasetSize/);
    expect(() => PoissonSampler.fromJSON({ sampling: 'shuffle' } as never)).toThrow(/ShuffleSampler.fromJSON/);
  });
});
