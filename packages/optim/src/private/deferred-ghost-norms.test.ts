import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { collectParams, Linear, normalInit, type ParamSpec } from '@clipwise/core';
import { setDeferredGhostNorms } from '@clipwise/ghost-norm';
import { resolveGrouping } from '@clipwise/grouping';
import { TinyLm, tokenBatch } from '../../test/tiny-lm';
import { PrivateGradients } from './private-gradients';
import { expectSameValues } from './expect-same-values.test-util';

const B = 5;
const T = 6;
const PER_LAYER = 'ClipwiseGhostSqNormPartials';
const BATCHED = ['ClipwiseGhostSqNormPartialsMany', 'ClipwiseGhostSqNormPartialsInto'];

/**
 * Ten linear layers of varied widths (each d·p ≥ 2T²: every weight ghost-normed), biases on every
 * other one, both weight layouts: nine wait for the all-layer group (all but the first, last to arrive).
 */
function mlp() {
  const widths = [8, 12, 10, 12, 9, 12, 10, 8, 12, 10, 9];
  const layers = widths.slice(1).map((out, l) => {
    const bias = l % 2 === 0 ? { biasInit: (s: number[]) => tf.randomNormal(s, 0, 0.1, 'float32', 300 + l) } : { bias: false };
    return new Linear({ name: `mlp.l${l}`, inFeatures: widths[l]!, outFeatures: out, layout: l % 3 === 0 ? 'out_in' : 'in_out', weightInit: normalInit(0.4, 200 + l), ...bias });
  });
  const x = tf.randomNormal([B, T, widths[0]!], 0, 1, 'float32', 299) as tf.Tensor3D;
  return {
    params: collectParams(layers) as ParamSpec[],
    deferrable: layers.length - 1,
    loss: () => tf.tidy(() => tf.sum(tf.square(layers.reduce<tf.Tensor>((h, l) => tf.tanh(l.apply(h as tf.Tensor3D)), x)), [1, 2]) as tf.Tensor1D),
    dispose: () => [...layers, x].forEach((v) => v.dispose()),
  };
}

/** TinyLm: its c_fc and c_proj wait (its tied LM head arrives first and keeps its own path). */
function tinyLm() {
  const model = new TinyLm(11, 8, 'tiny');
  const { ids, targets } = tokenBatch(B, T, 11, 42);
  return { params: model.params, deferrable: 2, loss: () => model.perSampleLoss(ids, targets), dispose: () => (model.dispose(), tf.dispose([ids, targets])) };
}

/** One private step (σ = 0): its gradients, its groups' statistics and the kernels its backward ran. */
async function step(make: typeof mlp, grouping: 'all-layer' | 'layer-wise', deferred: boolean, threshold?: number) {
  setDeferredGhostNorms(deferred);
  const model = make();
  const groups = resolveGrouping(grouping, model.params, { clipNorm: threshold ?? 1e6 });
  const pg = new PrivateGradients({ params: model.params, grouping: groups, noiseMultiplier: 0, expectedBatchSize: B, seed: 1 });
  const profile = await tf.profile(async () => void (await pg.accumulate(model.loss)));
  const { grads, groups: stats } = await pg.release();
  const values = new Map(await Promise.all([...grads].map(async ([n, g]) => [n, await g.data()] as const)));
  tf.dispose([...grads.values()]);
  model.dispose();
  return { values, stats, kernels: profile.kernels.map((k) => k.name) };
}

const count = (names: string[], ...kernels: string[]) => names.filter((n) => kernels.includes(n)).length;

describe('ghost norms of waiting records launched together at the group close equal the per-layer launches', () => {
  afterEach(() => {
    setDeferredGhostNorms(true);
  });
  for (const [label, make] of [['ten linear layers', mlp], ['TinyLm', tinyLm]] as const) {
    it(`${label}, all-layer clipping`, async () => {
      const before = tf.memory().numTensors;
      // a threshold just above the median norm (clear of rounding): some samples clip, some not
      const threshold = (await step(make, 'all-layer', false)).stats[0]!.medianNorm * 1.001;
      const slow = await step(make, 'all-layer', false, threshold);
      const fast = await step(make, 'all-layer', true, threshold);
      expect(tf.memory().numTensors).toBe(before);
      // the same sums up to float32 rounding (the partials summed in another order)
      expectSameValues(fast.values, slow.values);
      const [f, s] = [fast.stats[0]!, slow.stats[0]!];
      expect(f.clipFraction).toBe(s.clipFraction);
      expect(f.clipFraction > 0 && f.clipFraction < 1).toBe(true);
      expect(f.medianNorm).toBeCloseTo(s.medianNorm, 5);
      expect(f.maxNorm).toBeCloseTo(s.maxNorm, 5);
      const made = make();
      const deferrable = made.deferrable;
      made.dispose();
      if (tf.getBackend() === 'webgpu') {
        // the waiting layers' ghost norms at the close, a launch a layer into one partials tensor
        expect(count(fast.kernels, ...BATCHED)).toBe(deferrable);
        expect(count(fast.kernels, PER_LAYER)).toBe(count(slow.kernels, PER_LAYER) - deferrable);
        expect(count(slow.kernels, ...BATCHED)).toBe(0);
        expect(fast.kernels.length).toBe(slow.kernels.length);
      } else {
        // nothing to batch off webgpu: the same kernels
        expect(fast.kernels).toEqual(slow.kernels);
      }
    });
  }

  it('leaves layer-wise clipping as it was (every group closes on its record\'s arrival)', async () => {
    const slow = await step(mlp, 'layer-wise', false);
    const fast = await step(mlp, 'layer-wise', true);
    expect(fast.kernels).toEqual(slow.kernels);
    for (const [name, want] of slow.values) expect([...fast.values.get(name)!]).toEqual([...want]);
  });
});
