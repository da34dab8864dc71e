import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { LayerNorm, Linear, collectParams, groupsPerLaunch, normalInit, type DPLayer, type ParamSpec } from '@clipwise/core';
import { expectSameStep, runPrivateStep } from './private-step-run.test-util';
import { setGatheredRowCloses } from './gathered-row-closes';
import type { ClippingConfig } from './clipping';

const B = 5;
const T = 4;
const D = 12;
const DEPTH = 8;
const GATHERED = 'ClipwiseClippedRowSumsGroups';
const ROWS = 'ClipwiseClippedRowSums';

/** DEPTH blocks of a layer norm and a linear layer (tanh): more layer norms than one gathered launch takes on lavapipe's 16 bindings. */
function stack() {
  const layers: DPLayer[] = [];
  const blocks = Array.from({ length: DEPTH }, (_, k) => {
    const ln = new LayerNorm({ name: `b${k}.ln`, dim: D });
    const lin = new Linear({ name: `b${k}.fc`, inFeatures: D, outFeatures: D, layout: 'in_out', weightInit: normalInit(0.4, 300 + k), biasInit: (s) => tf.randomNormal(s, 0, 0.1, 'float32', 400 + k) });
    layers.push(ln, lin);
    return { ln, lin };
  });
  const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 7) as tf.Tensor3D;
  const params = collectParams(layers) as ParamSpec[];
  // γ and β away from 1 and 0, each layer norm its own
  tf.tidy(() => params.filter((p) => p.name.includes('.ln.')).forEach((p, k) => p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.3, 'float32', 500 + k)))));
  return {
    params,
    loss: () =>
      tf.tidy(() => {
        let h: tf.Tensor = x;
        for (const { ln, lin } of blocks) h = tf.tanh(lin.apply(ln.apply(h as tf.Tensor3D)));
        return tf.sum(tf.square(h), [1, 2]) as tf.Tensor1D;
      }),
    dispose: () => [...layers, x].forEach((v) => v.dispose()),
  };
}

/** One private step (σ = 0): its gradients, its groups' statistics and the kernels it ran. */
async function step(grouping: 'layer-wise' | 'param-wise', clipping: ClippingConfig, gathered: boolean, thresholds?: number[]) {
  setGatheredRowCloses(gathered);
  return runPrivateStep(stack(), B, grouping, clipping, thresholds);
}

const count = (names: string[], name: string) => names.filter((n) => n === name).length;

describe('gathered row closes: layer norms clipped together in a few launches equal their closes one by one', () => {
  afterEach(() => setGatheredRowCloses(null));
  for (const grouping of ['layer-wise', 'param-wise'] as const)
    for (const clipping of [{ fn: 'abadi' }, { fn: 'automatic', gamma: 0.01 }] as ClippingConfig[]) {
      it(`${grouping}, ${clipping.fn}`, async () => {
        const before = tf.memory().numTensors;
        // thresholds just above each group's median norm: 2 of 5 samples clip in every group
        const medians = (await step(grouping, clipping, false)).groups.map((g) => g.medianNorm * 1.001);
        const apart = await step(grouping, clipping, false, medians);
        const gathered = await step(grouping, clipping, true, medians);
        expect(tf.memory().numTensors).toBe(before);
        expectSameStep(gathered, apart);
        if (tf.getBackend() === 'webgpu') {
          // layer-wise: a group a layer norm (γ and β, 2 rows); param-wise: a group a parameter (1 row)
          const [groups, rows] = grouping === 'layer-wise' ? [DEPTH, 2] : [2 * DEPTH, 1];
          const per = groupsPerLaunch(rows);
          // every layer norm closed in launches of `per` groups (a last lone group by clippedRowSums)
          const lone = groups % per === 1 ? 1 : 0;
          expect(count(gathered.kernels, GATHERED)).toBe(Math.floor(groups / per) + (groups % per > 1 ? 1 : 0));
          expect(count(gathered.kernels, ROWS)).toBe(lone);
          expect(count(apart.kernels, ROWS)).toBe(DEPTH);
          expect(count(apart.kernels, GATHERED)).toBe(0);
        } else {
          expect(gathered.kernels).toEqual(apart.kernels);
        }
      });
    }
});
