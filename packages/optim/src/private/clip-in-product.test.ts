import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { collectParams, Linear, normalInit, setClipInProduct, type ParamSpec } from '@clipwise/core';
import { setLayerNormClipInSums, setPairedBiasClip } from '@clipwise/ghost-norm';
import { TinyLm, tokenBatch } from '../../test/tiny-lm';
import { expectSameStep, runPrivateStep } from './private-step-run.test-util';
import type { ClippingConfig } from './clipping';

const B = 5;
const T = 6;
const FUSED = 'ClipwiseClippedOuterSumBiasClip';
const ROWS = 'ClipwiseClippedRowSums';

/** Two linear layers with biases, one of each weight layout (TinyLm's are [in, out]). */
function outInMlp() {
  const l1 = new Linear({ name: 'mlp.l1', inFeatures: 8, outFeatures: 12, layout: 'out_in', weightInit: normalInit(0.3, 201), biasInit: (s) => tf.randomNormal(s, 0, 0.1, 'float32', 202) });
  const l2 = new Linear({ name: 'mlp.l2', inFeatures: 12, outFeatures: 6, layout: 'in_out', weightInit: normalInit(0.3, 203) });
  const x = tf.randomNormal([B, T, 8], 0, 1, 'float32', 204) as tf.Tensor3D;
  return {
    params: collectParams([l1, l2]) as ParamSpec[],
    loss: () => tf.tidy(() => tf.sum(tf.square(l2.apply(tf.tanh(l1.apply(x)))), [1, 2]) as tf.Tensor1D),
    dispose: () => [l1, l2, x].forEach((v) => v.dispose()),
  };
}

function tinyLm() {
  const model = new TinyLm(11, 8, 'tiny');
  const { ids, targets } = tokenBatch(B, T, 11, 42);
  return { params: model.params, loss: () => model.perSampleLoss(ids, targets), dispose: () => (model.dispose(), tf.dispose([ids, targets])) };
}

/** One private step (σ = 0) of `grouping`: its gradients, its groups' statistics and the kernels its backward ran. */
async function step(make: typeof tinyLm, grouping: 'layer-wise' | 'param-wise', clipping: ClippingConfig, inProduct: boolean, thresholds?: number[], paired = false) {
  setClipInProduct(inProduct);
  setLayerNormClipInSums(inProduct);
  setPairedBiasClip(paired);
  return runPrivateStep(make(), B, grouping, clipping, thresholds);
}

const count = (names: string[], name: string) => names.filter((n) => n === name).length;

describe('layer-wise and param-wise clipping with the clip factors inside the product (and a layer norm\'s inside its sums) equal the two-launch path', () => {
  afterEach(() => (setClipInProduct(true), setLayerNormClipInSums(null), setPairedBiasClip(true)));
  // param-wise: each weight is a group of its own, its bias another (the product's bias row dropped;
  // its bias in launches of its own, `setPairedBiasClip(false)`: the next describe pairs them)
  for (const grouping of ['layer-wise', 'param-wise'] as const)
  for (const [label, make, linears, norms] of [['TinyLm', tinyLm, 2, 2], ['an MLP of both weight layouts', outInMlp, 2, 0]] as const)
    for (const clipping of [{ fn: 'abadi' }, { fn: 'automatic', gamma: 0.01 }] as ClippingConfig[]) {
      it(`${grouping}, ${label}, ${clipping.fn}`, async () => {
        const before = tf.memory().numTensors;
        // thresholds just above each group's median norm (clear of rounding): 2 of 5 samples clip
        const medians = (await step(make, grouping, clipping, false)).groups.map((g) => g.medianNorm * 1.001);
        const slow = await step(make, grouping, clipping, false, medians);
        const fast = await step(make, grouping, clipping, true, medians);
        expect(tf.memory().numTensors).toBe(before);
        // the partials summed in another order
        expectSameStep(fast, slow);
        if (tf.getBackend() === 'webgpu') {
          // each linear group: one product launch in place of the clip factors' and the product's; each
          // layer norm: its per-sample gradients, then one launch for norms, factors and sums
          // (`clippedRowSums`), where layer-wise ran the factors' and the paired sums' kernels (as many)
          // and param-wise each parameter's factors and sum apart (two kernels more)
          expect(count(fast.kernels, FUSED)).toBe(linears);
          expect(count(slow.kernels, FUSED)).toBe(0);
          expect(count(fast.kernels, ROWS)).toBe(norms);
          expect(count(slow.kernels, ROWS)).toBe(0);
          expect(fast.kernels.length).toBe(slow.kernels.length - linears - (grouping === 'param-wise' ? 2 * norms : 0));
        } else {
          expect(fast.kernels).toEqual(slow.kernels);
        }
      });
    }
});

describe('param-wise clipping with each linear layer\'s weight and bias in one ghost launch and one product equals their launches apart', () => {
  afterEach(() => (setClipInProduct(true), setLayerNormClipInSums(null), setPairedBiasClip(true)));
  for (const [label, make, linears] of [['TinyLm', tinyLm, 2], ['an MLP of both weight layouts', outInMlp, 2]] as const)
    for (const clipping of [{ fn: 'abadi' }, { fn: 'automatic', gamma: 0.01 }] as ClippingConfig[]) {
      it(`${label}, ${clipping.fn}`, async () => {
        const before = tf.memory().numTensors;
        const medians = (await step(make, 'param-wise', clipping, true)).groups.map((g) => g.medianNorm * 1.001);
        const apart = await step(make, 'param-wise', clipping, true, medians, false);
        const paired = await step(make, 'param-wise', clipping, true, medians, true);
        expect(tf.memory().numTensors).toBe(before);
        expectSameStep(paired, apart);
        if (tf.getBackend() === 'webgpu') {
          // each paired layer: its ghost launch with the bias's chunks and its product; the bias's own
          // two (its clip factors from dy's column sums, its weighted column sum) gone
          expect(count(paired.kernels, FUSED)).toBe(count(apart.kernels, FUSED));
          expect(count(paired.kernels, 'ClipwiseGhostSqNormPartials')).toBe(count(apart.kernels, 'ClipwiseGhostSqNormPartials'));
          expect(count(paired.kernels, 'ClipwiseColumnSum')).toBe(count(apart.kernels, 'ClipwiseColumnSum') - linears);
          expect(count(paired.kernels, 'ClipwiseSampleTermSum')).toBe(count(apart.kernels, 'ClipwiseSampleTermSum') - linears);
          const launches = (names: string[]) => names.filter((n) => n !== 'Reshape').length;
          expect(launches(paired.kernels)).toBe(launches(apart.kernels) - 2 * linears);
        } else {
          expect(paired.kernels).toEqual(apart.kernels);
        }
      });
    }
});
