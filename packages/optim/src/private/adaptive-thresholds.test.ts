import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { bruteForcePerSampleGrads, sqNormsOf } from '@clipwise/ghost-norm';
import { resolveGrouping, type Grouping } from '@clipwise/grouping';
import { TinyLm, releaseStep, tokenBatch } from '../../test/tiny-lm';
import { PrivateGradients, type PrivateGradientsOptions } from './private-gradients';

const B = 8;

/** Per-group per-sample norms by brute force (one sample at a time with tf.grad), in float64, sorted. */
async function bruteForceGroupNorms(model: TinyLm, grouping: Grouping, ids: tf.Tensor2D, targets: tf.Tensor2D): Promise<number[][]> {
  const per = bruteForcePerSampleGrads(
    (i) => tf.tidy(() => tf.sum(model.perSampleLoss(ids.slice([i], [1]) as tf.Tensor2D, targets.slice([i], [1]) as tf.Tensor2D)) as tf.Scalar),
    model.params,
    ids.shape[0],
  );
  const sq = new Map(await Promise.all([...per].map(async ([n, g]) => [n, Array.from(await sqNormsOf(g).data())] as const)));
  tf.dispose([...per.values()]);
  return grouping.groups.map((g) =>
    Array.from({ length: ids.shape[0] }, (_, i) => Math.sqrt(g.params.reduce((s, p) => s + sq.get(p)![i]!, 0))).sort((a, b) => a - b),
  );
}

const step = releaseStep;

describe('adaptive per-group thresholds in the private step', () => {
  it('converge to the target quantile of each group\'s per-sample norms (brute-force reference)', async () => {
    const model = new TinyLm(11, 8, 'conv');
    const { ids, targets } = tokenBatch(B, 5, 11, 11);
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 1 });
    const norms = await bruteForceGroupNorms(model, grouping, ids, targets);
    for (const gamma of [0.5, 0.75]) {
      // weights stay fixed (no optimizer step), so each group's norms are a fixed set of B values;
      // near-noiseless counts (σ_b = 1e-3) make the quantile bracket a fixed point of the update
      const pg = new PrivateGradients({
        params: model.params, grouping, noiseMultiplier: 0, expectedBatchSize: B, seed: 3,
        thresholdPolicy: { kind: 'adaptive', targetQuantile: gamma, countNoise: 1e-3 },
      });
      let last = grouping.thresholds;
      for (let t = 0; t < 70; t++) last = (await step(pg, model, ids, targets)).thresholds!.next;
      // Exactly k of B samples at or under C_m is the fixed point: C_m in [n_(k), n_(k+1)). One sample
      // too few or too many moves C_m by exp(±η/B), so where the bracket is narrower than that step
      // C_m hovers within one step of it: the tolerance is exp(η/B) (η = 0.2), plus 1e-4 for float32 norms.
      const k = gamma * B;
      const stepFactor = Math.exp(0.2 / B) * (1 + 1e-4);
      norms.forEach((sorted, m) => {
        const c = last[m]!;
        const what = `${grouping.groups[m]!.name}, γ=${gamma}: C=${c}, norms ${sorted.map((n) => n.toPrecision(4)).join(' ')}`;
        expect(c, what).toBeGreaterThanOrEqual(sorted[k - 1]! / stepFactor);
        expect(c, what).toBeLessThan(sorted[k]! * stepFactor);
      });
      // and the initial thresholds were outside most brackets, so the test sees them move there
      expect(norms.filter((sorted, m) => grouping.thresholds[m]! < sorted[k - 1]! / stepFactor || grouping.thresholds[m]! > sorted[k]! * stepFactor).length).toBeGreaterThan(3);
    }
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('adds gradient noise of std σ·S and count noise of std σ_b, which compose to effectiveNoiseMultiplier (measured, rel. tol. 3%)', async () => {
    const model = new TinyLm(11, 8, 'noise');
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 1 });
    const M = grouping.groups.length;
    const countNoise = 1.5 * (Math.sqrt(M) / 2); // count noise multiplier 1.5
    const sigma = 1;
    const pg = new PrivateGradients({
      params: model.params, grouping, noiseMultiplier: sigma, expectedBatchSize: 4, seed: 9,
      thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5, countNoise },
    });
    // An empty Poisson batch releases pure noise: grads = σ S ξ / B and fractions = ξ_b / B + ½.
    let gradSq = 0;
    let gradN = 0;
    let countSq = 0;
    let countN = 0;
    for (let t = 0; t < 100; t++) {
      const r = await step(pg, model);
      const S = Math.hypot(...r.thresholds!.used);
      for (const g of r.grads.values()) for (const v of g) (gradSq += (v * 4 / S) ** 2), gradN++;
      for (const f of r.thresholds!.unclippedFractions) (countSq += ((f - 0.5) * 4) ** 2), countN++;
    }
    const sigmaMeasured = Math.sqrt(gradSq / gradN);
    const countMeasured = Math.sqrt(countSq / countN);
    expect(Math.abs(sigmaMeasured / sigma - 1)).toBeLessThan(0.03);
    expect(Math.abs(countMeasured / countNoise - 1)).toBeLessThan(0.06);
    const composed = 1 / Math.sqrt(sigmaMeasured ** -2 + (countMeasured / (Math.sqrt(M) / 2)) ** -2);
    expect(pg.effectiveNoiseMultiplier).toBeCloseTo(1 / Math.sqrt(1 + 1 / 1.5 ** 2), 12);
    expect(Math.abs(composed / pg.effectiveNoiseMultiplier - 1)).toBeLessThan(0.03);
    model.dispose();
  });

  it('recovers the fixed-threshold σ as σ_b → ∞, and is σ itself with fixed thresholds', () => {
    const model = new TinyLm(11, 8, 'inf');
    const grouping = resolveGrouping('uniform:3', model.params, { clipNorm: 1 });
    const base = { params: model.params, grouping, noiseMultiplier: 1.3, expectedBatchSize: 16, seed: 1 };
    expect(new PrivateGradients(base).effectiveNoiseMultiplier).toBe(1.3);
    const effs = [10, 1e3, 1e6, 1e9].map(
      (countNoise) => new PrivateGradients({ ...base, thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5, countNoise } }).effectiveNoiseMultiplier,
    );
    for (let i = 1; i < effs.length; i++) expect(effs[i]!).toBeGreaterThan(effs[i - 1]!);
    expect(Math.abs(effs[3]! / 1.3 - 1)).toBeLessThan(1e-12);
    model.dispose();
  });

  it('resumes exactly: 3 steps, save, restore, 3 more equal 6 uninterrupted steps (thresholds and gradients)', async () => {
    const model = new TinyLm(11, 8, 'resume');
    const { ids, targets } = tokenBatch(4, 5, 11, 2);
    const grouping = resolveGrouping('uniform:2', model.params, { clipNorm: 1 });
    const opts: PrivateGradientsOptions = {
      params: model.params, grouping, noiseMultiplier: 0.7, expectedBatchSize: 4, seed: 5,
      thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.6, countNoise: 0.8, initialThreshold: 0.3 },
    };
    const whole = new PrivateGradients(opts);
    const full: Awaited<ReturnType<typeof step>>[] = [];
    for (let t = 0; t < 6; t++) full.push(await step(whole, model, ids, targets));
    const first = new PrivateGradients(opts);
    for (let t = 0; t < 3; t++) await step(first, model, ids, targets);
    const saved = JSON.parse(JSON.stringify(first.toJSON()));
    expect(saved.thresholds.steps).toBe(3);
    const resumed = new PrivateGradients({ ...opts, noiseState: saved.noise, thresholdState: saved.thresholds });
    expect(resumed.grouping.thresholds).toEqual(full[2]!.thresholds!.next);
    for (let t = 3; t < 6; t++) {
      const r = await step(resumed, model, ids, targets);
      expect(r.thresholds).toEqual(full[t]!.thresholds);
      for (const [name, g] of r.grads) {
        // bit-exact on cpu; on webgpu small ops on freshly restored (CPU-resident) state may take TF.js's
        // CPU forward path, so a value can differ in its last bit
        if (tf.getBackend() === 'cpu') expect(g).toEqual(full[t]!.grads.get(name));
        else g.forEach((v, i) => expect(Math.abs(v - full[t]!.grads.get(name)![i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
      }
    }
    // the thresholds moved, so the test would notice a resume from the initial ones
    expect(full[5]!.thresholds!.used).not.toEqual([0.3, 0.3]);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('does not grow tf.memory().numTensors across steps', async () => {
    const model = new TinyLm(11, 8, 'leak');
    const { ids, targets } = tokenBatch(4, 5, 11, 1);
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 1 });
    const pg = new PrivateGradients({
      params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 1, thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5, countNoise: 2 },
    });
    const counts: number[] = [];
    for (let t = 0; t < 5; t++) {
      await step(pg, model, ids, targets);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('rejects bad input, naming the problem', () => {
    const model = new TinyLm(11, 8, 'bad');
    const grouping = resolveGrouping('uniform:2', model.params, { clipNorm: 1 });
    const base = { params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 1 };
    const adaptive = (extra: object) => () => new PrivateGradients({ ...base, thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5, ...extra } });
    expect(adaptive({ targetQuantile: 1 })).toThrow(/targetQuantile γ is 1; expected a number strictly between 0 and 1/);
    expect(adaptive({ targetQuantile: 0 })).toThrow(/targetQuantile γ is 0/);
    expect(adaptive({ countNoise: 0 })).toThrow(/countNoise σ_b is 0; expected a finite number > 0/);
    expect(adaptive({ countNoise: -2 })).toThrow(/countNoise σ_b is -2/);
    expect(() => new PrivateGradients({ ...base, clipping: { fn: 'automatic' }, thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5 } })).toThrow(
      /adaptive thresholds need abadi clipping, got 'automatic'/,
    );
    const other = resolveGrouping('uniform:3', model.params, { clipNorm: 1 });
    const state = new PrivateGradients({ ...base, grouping: other, thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5 } }).toJSON().thresholds!;
    expect(adaptive({ })).not.toThrow();
    expect(() => new PrivateGradients({ ...base, thresholdPolicy: { kind: 'adaptive', targetQuantile: 0.5 }, thresholdState: state })).toThrow(
      /adaptive threshold state is for groups \["group-0","group-1","group-2"\], but the grouping has \["group-0","group-1"\]/,
    );
    expect(() => new PrivateGradients({ ...base, thresholdState: state })).toThrow(/thresholdState was given but the threshold policy is fixed/);
    model.dispose();
  });
});
