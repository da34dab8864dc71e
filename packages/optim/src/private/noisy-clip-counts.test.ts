import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resolveGrouping } from '@clipwise/grouping';
import { TinyLm, releaseStep, tokenBatch } from '../../test/tiny-lm';
import { PrivateGradients, type PrivateGradientsOptions } from './private-gradients';

const step = releaseStep;

describe('private diagnostics: noisy per-group clip counts', () => {
  it('release the clip fraction with count noise of std σ_c, composed with the gradient into effectiveNoiseMultiplier (measured, rel. tol. 3% / 6%)', async () => {
    const model = new TinyLm(11, 8, 'clip-noise');
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 1 });
    const M = grouping.groups.length;
    const clipCountNoise = 2 * (Math.sqrt(M) / 2); // count noise multiplier 2
    const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 9, clipCountNoise });
    // an empty Poisson batch releases pure noise: clip fractions = ξ_c / B + ½
    let countSq = 0;
    let countN = 0;
    for (let t = 0; t < 100; t++) {
      const r = await step(pg, model);
      expect(r.noisyClipFractions).toHaveLength(M);
      for (const f of r.noisyClipFractions!) (countSq += ((f - 0.5) * 4) ** 2), countN++;
    }
    expect(Math.abs(Math.sqrt(countSq / countN) / clipCountNoise - 1)).toBeLessThan(0.06);
    expect(pg.releases.map((r) => r.quantity)).toEqual(['gradient', 'clip-counts']);
    expect(pg.releases[1]!.noiseMultiplier).toBeCloseTo(2, 12);
    expect(pg.effectiveNoiseMultiplier).toBeCloseTo(1 / Math.sqrt(1 + 1 / 4), 12);
    // composing the listed releases (μ² = Σ (Δ/noiseStd)², as @clipwise/accountant's composedNoiseMultiplier) gives σ_eff
    const composed = 1 / Math.sqrt(pg.releases.reduce((mu2, r) => mu2 + (r.sensitivity / r.noiseStd) ** 2, 0));
    expect(Math.abs(composed / pg.effectiveNoiseMultiplier - 1)).toBeLessThan(1e-12);
    model.dispose();
  });

  it('estimate the true clip fraction: near-noiseless counts equal the raw one', async () => {
    const model = new TinyLm(11, 8, 'clip-exact');
    const { ids, targets } = tokenBatch(8, 5, 11, 3);
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 0.05 });
    const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 8, seed: 2, clipCountNoise: 1e-6 });
    const r = await step(pg, model, ids, targets);
    r.groups.forEach((g, m) => expect(Math.abs(r.noisyClipFractions![m]! - g.clipFraction)).toBeLessThan(1e-5));
    expect(r.groups.some((g) => g.clipFraction > 0)).toBe(true);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('reuse the adaptive thresholds\' counts: clip fractions 1 − b̃_m, no extra release', async () => {
    const model = new TinyLm(11, 8, 'clip-adaptive');
    const { ids, targets } = tokenBatch(4, 5, 11, 2);
    const grouping = resolveGrouping('uniform:2', model.params, { clipNorm: 1 });
    const pg = new PrivateGradients({
      params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 5, thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5, countNoise: 3 },
    });
    const r = await step(pg, model, ids, targets);
    expect(r.noisyClipFractions).toEqual(r.thresholds!.unclippedFractions.map((b) => 1 - b));
    expect(pg.releases.map((x) => x.quantity)).toEqual(['gradient', 'threshold-counts']);
    expect(() => new PrivateGradients({ ...pg.options, clipCountNoise: 3 })).toThrow(/clipCountNoise was given with adaptive thresholds/);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('resumes exactly: 2 steps, save, restore, 2 more equal 4 uninterrupted steps', async () => {
    const model = new TinyLm(11, 8, 'clip-resume');
    const { ids, targets } = tokenBatch(4, 5, 11, 2);
    const grouping = resolveGrouping('uniform:2', model.params, { clipNorm: 1 });
    const opts: PrivateGradientsOptions = { params: model.params, grouping, noiseMultiplier: 0.7, expectedBatchSize: 4, seed: 5, clipCountNoise: 0.8 };
    const whole = new PrivateGradients(opts);
    const full: number[][] = [];
    for (let t = 0; t < 4; t++) full.push((await step(whole, model, ids, targets)).noisyClipFractions!);
    const first = new PrivateGradients(opts);
    for (let t = 0; t < 2; t++) await step(first, model, ids, targets);
    const saved = JSON.parse(JSON.stringify(first.toJSON()));
    expect(saved.clipCounts.steps).toBe(2);
    const resumed = new PrivateGradients({ ...opts, noiseState: saved.noise, clipCountState: saved.clipCounts });
    for (let t = 2; t < 4; t++) expect((await step(resumed, model, ids, targets)).noisyClipFractions).toEqual(full[t]);
    expect(() => new PrivateGradients({ ...opts, clipCountNoise: undefined, clipCountState: saved.clipCounts })).toThrow(/clipCountState was given without clipCountNoise/);
    expect(() => new PrivateGradients({ ...opts, clipCountNoise: 0 })).toThrow(/clip-count noise σ_c is 0; expected a finite number > 0/);
    tf.dispose([ids, targets]);
    model.dispose();
  });
});
