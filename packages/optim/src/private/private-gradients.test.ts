import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { setTrainable } from '@clipwise/core';
import { bruteForcePerSampleGrads, sqNormsOf } from '@clipwise/ghost-norm';
import { resolveGrouping, type Grouping } from '@clipwise/grouping';
import { TinyLm, tokenBatch } from '../../test/tiny-lm';
import { PrivateGradients } from './private-gradients';
import type { ClippingConfig } from './clipping';
import { relErr } from '../../../../tooling/test/rel-err';

const B = 5;
const T = 6;

/** The private sum by brute force: per-sample gradients one at a time, clipped group by group, in float64. */
async function bruteForcePrivateSum(model: TinyLm, grouping: Grouping, clipping: ClippingConfig, ids: tf.Tensor2D, targets: tf.Tensor2D, expected: number, params = model.params) {
  const per = bruteForcePerSampleGrads(
    (i) => tf.tidy(() => tf.sum(model.perSampleLoss(ids.slice([i], [1]) as tf.Tensor2D, targets.slice([i], [1]) as tf.Tensor2D)) as tf.Scalar),
    params,
    B,
  );
  const sq = new Map(await Promise.all([...per].map(async ([n, g]) => [n, Array.from(await sqNormsOf(g).data())] as const)));
  const factors = grouping.groups.map((g) => {
    return Array.from({ length: B }, (_, i) => {
      const n = Math.sqrt(g.params.reduce((s, p) => s + sq.get(p)![i]!, 0));
      return clipping.fn === 'abadi' ? Math.min(1, g.threshold / n) : g.threshold / (n + (clipping.gamma ?? 0.01));
    });
  });
  const out = new Map<string, Float64Array>();
  for (const p of params) {
    const c = factors[grouping.groupIndexOf(p.name)]!;
    const g = await per.get(p.name)!.data();
    const size = p.size;
    const acc = new Float64Array(size);
    for (let i = 0; i < B; i++) for (let j = 0; j < size; j++) acc[j] += c[i]! * g[i * size + j]!;
    out.set(p.name, acc.map((v) => v / expected));
  }
  tf.dispose([...per.values()]);
  return { sums: out, groupNorms: grouping.groups.map((g) => Array.from({ length: B }, (_, i) => Math.sqrt(g.params.reduce((s, p) => s + sq.get(p)![i]!, 0)))) };
}

const groupings = ['all-layer', 'layer-wise', 'param-wise', 'uniform:3', 'non-uniform:tiny.c_fc,tiny.ln_f', 'per-device'];

describe('private gradients with σ = 0 equal brute-force group-wise clipping', () => {
  for (const spec of groupings) {
    for (const clipping of [{ fn: 'abadi' }, { fn: 'automatic', gamma: 0.01 }] as ClippingConfig[]) {
      it(`${spec}, ${clipping.fn}`, async () => {
        const model = new TinyLm(11, 8, 'tiny', true);
        const { ids, targets } = tokenBatch(B, T, 11, 42);
        // thresholds near the median norm so some samples clip and others do not
        const probe = resolveGrouping(spec, model.params, { clipNorm: 1 });
        const ref0 = await bruteForcePrivateSum(model, probe, clipping, ids, targets, 1);
        const medians = ref0.groupNorms.map((ns) => {
          const s = [...ns].sort((a, b) => a - b);
          return (s[1]! + s[2]!) / 2; // between two samples' norms: 2 of 5 unclipped, 3 clipped
        });
        const grouping = probe.withThresholds(medians);
        const expectedBatch = 4.2;
        const ref = await bruteForcePrivateSum(model, grouping, clipping, ids, targets, expectedBatch);

        const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 0, expectedBatchSize: expectedBatch, clipping, seed: 1 });
        const { batchSize } = await pg.accumulate(() => model.perSampleLoss(ids, targets));
        expect(batchSize).toBe(B);
        const { grads, groups, lossSum } = await pg.release();
        expect(Number.isFinite(lossSum)).toBe(true);
        for (const p of model.params) {
          expect(relErr((await grads.get(p.name)!.data()) as Float32Array, ref.sums.get(p.name)!), p.name).toBeLessThan(1e-4);
        }
        // reported clip fractions match the brute-force norms
        groups.forEach((g, m) => {
          const want = ref.groupNorms[m]!.filter((n) => n > grouping.groups[m]!.threshold).length / B;
          expect(g.clipFraction).toBeCloseTo(want, 6);
        });
        tf.dispose([ids, targets, ...grads.values()]);
        model.dispose();
      });
    }
  }
});

describe('private gradients of a trainable subset equal brute force', () => {
  // BiTFiT with all-layer clipping: every bias record waits, and one whose weight is frozen keeps only
  // the bias's per-sample gradients; their norms and clipped sums are formed together at the end
  it('bias only (BiTFiT), all-layer', async () => {
    const model = new TinyLm(11, 8, 'bitfit-all');
    setTrainable(model.params.filter((p) => p.role !== 'bias'), false);
    const trained = model.params.filter((p) => p.role === 'bias');
    const { ids, targets } = tokenBatch(B, T, 11, 42);
    const probe = resolveGrouping('all-layer', trained, { clipNorm: 1 });
    const norms = (await bruteForcePrivateSum(model, probe, { fn: 'abadi' }, ids, targets, 1, trained)).groupNorms[0]!;
    const grouping = probe.withThresholds([[...norms].sort((a, b) => a - b)[2]!]);
    const ref = await bruteForcePrivateSum(model, grouping, { fn: 'abadi' }, ids, targets, B, trained);
    const pg = new PrivateGradients({ params: trained, grouping, noiseMultiplier: 0, expectedBatchSize: B, seed: 1 });
    await pg.accumulate(() => model.perSampleLoss(ids, targets));
    const { grads } = await pg.release();
    expect([...grads.keys()].sort()).toEqual(trained.map((p) => p.name).sort());
    for (const p of trained) expect(relErr((await grads.get(p.name)!.data()) as Float32Array, ref.sums.get(p.name)!), p.name).toBeLessThan(1e-4);
    tf.dispose([ids, targets, ...grads.values()]);
    model.dispose();
  });
});

describe('noise', () => {
  it('has mean 0 and std σ·S / (q·N) (fixed seed; 5σ-of-the-estimate tolerance)', async () => {
    const model = new TinyLm(50, 16, 'noise');
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 2 });
    const sigma = 1.3;
    const expected = 8;
    const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: sigma, expectedBatchSize: expected, seed: 7 });
    // an empty Poisson batch: the release is pure noise
    const { grads } = (await pg.release());
    const all = Float64Array.from((await Promise.all([...grads.values()].map((g) => g.data()))).flatMap((v) => Array.from(v)));
    const n = all.length;
    const mean = all.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const want = (sigma * grouping.sensitivity) / expected;
    expect(grouping.sensitivity).toBeCloseTo(2, 12); // equal split C/sqrt(M) keeps S = C
    expect(Math.abs(mean)).toBeLessThan((5 * want) / Math.sqrt(n));
    expect(Math.abs(std / want - 1)).toBeLessThan(5 * Math.sqrt(1 / (2 * n)));
    tf.dispose([...grads.values()]);
    model.dispose();
  });

  it('is reproducible from the seed and resumes from saved state', async () => {
    const model = new TinyLm(11, 8, 'seeded');
    const grouping = resolveGrouping('all-layer', model.params, { clipNorm: 1 });
    const make = (state?: { seed: number; draws: number }) =>
      new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 3, noiseState: state });
    const a = make();
    const first = (await a.release());
    const saved = a.toJSON().noise;
    const second = (await a.release());
    const resumed = (await make(saved).release());
    const again = (await make().release());
    const name = model.params[0]!.name;
    const read = async (r: typeof first) => Array.from(await r.grads.get(name)!.data());
    expect(await read(again)).toEqual(await read(first));
    expect(await read(resumed)).toEqual(await read(second));
    expect(await read(second)).not.toEqual(await read(first));
    for (const r of [first, second, resumed, again]) tf.dispose([...r.grads.values()]);
    model.dispose();
  });
});

describe('micro-batches', () => {
  it('accumulating two micro-batches equals one batch (clipping is per sample)', async () => {
    const model = new TinyLm(11, 8, 'micro');
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 0.5 });
    const { ids, targets } = tokenBatch(6, 4, 11, 9);
    const opts = { params: model.params, grouping, noiseMultiplier: 0, expectedBatchSize: 6, seed: 1 };
    const whole = new PrivateGradients(opts);
    await whole.accumulate(() => model.perSampleLoss(ids, targets));
    const w = (await whole.release());
    const parts = new PrivateGradients(opts);
    await parts.accumulate(() => model.perSampleLoss(ids.slice([0], [2]), targets.slice([0], [2])));
    await parts.accumulate(() => model.perSampleLoss(ids.slice([2], [4]), targets.slice([2], [4])));
    const p = (await parts.release());
    expect(p.batchSize).toBe(6);
    for (const param of model.params) {
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(w.grads.get(param.name)!, p.grads.get(param.name)!))));
      const diff = (await d.data())[0]!;
      d.dispose();
      expect(diff).toBeLessThan(1e-6);
    }
    tf.dispose([ids, targets, ...w.grads.values(), ...p.grads.values()]);
    model.dispose();
  });

  it('group statistics over micro-batches of different sizes, read from the device at once, equal brute-force group norms', async () => {
    const model = new TinyLm(11, 8, 'stats');
    // param-wise: 10 groups, more than one concat chunk; thresholds near each group's median norm
    const probe = resolveGrouping('param-wise', model.params, { clipNorm: 1 });
    const { ids, targets } = tokenBatch(6, 4, 11, 21);
    const per = bruteForcePerSampleGrads(
      (i) => tf.tidy(() => tf.sum(model.perSampleLoss(ids.slice([i], [1]) as tf.Tensor2D, targets.slice([i], [1]) as tf.Tensor2D)) as tf.Scalar),
      model.params,
      6,
    );
    const sq = new Map(await Promise.all([...per].map(async ([n, g]) => [n, Array.from(await sqNormsOf(g).data())] as const)));
    const norms = probe.groups.map((g) => Array.from({ length: 6 }, (_, i) => Math.sqrt(g.params.reduce((s, p) => s + sq.get(p)![i]!, 0))).sort((a, b) => a - b));
    const grouping = probe.withThresholds(norms.map((ns) => (ns[2]! + ns[3]!) / 2));
    const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 0, expectedBatchSize: 6, seed: 1 });
    await pg.accumulate(() => model.perSampleLoss(ids.slice([0], [2]), targets.slice([0], [2])));
    await pg.accumulate(() => model.perSampleLoss(ids.slice([2], [4]), targets.slice([2], [4])));
    const reads = vi.spyOn(tf.Tensor.prototype, 'data');
    const { grads, groups } = await pg.release();
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockRestore();
    groups.forEach((g, m) => {
      const ns = norms[m]!;
      expect(g.clipFraction, g.group).toBe(ns.filter((n) => n > grouping.groups[m]!.threshold).length / 6);
      expect(Math.abs(g.medianNorm - ns[2]!) / ns[2]!, g.group).toBeLessThan(1e-4); // lower median of 6
      expect(Math.abs(g.maxNorm - ns[5]!) / ns[5]!, g.group).toBeLessThan(1e-4);
    });
    tf.dispose([ids, targets, ...grads.values(), ...per.values()]);
    model.dispose();
  });
});
