import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Linear, collectParams, normalInit } from '@clipwise/core';
import { createAccountant } from '@clipwise/accountant';
import { ShuffleSampler } from '@clipwise/data';
import { resolveGrouping } from '@clipwise/grouping';
import { Optimizer, PrivateGradients, adamw } from '@clipwise/optim';
import { takeTrainStep } from '../src/train/train-step';

/** Eight fixed inputs of 3 features. */
const X = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i + 1));

describe('takeTrainStep (the update enqueued before the losses are read, guarded on the device)', () => {
  it('a batch with a NaN loss throws, leaves the weights, the optimizer and the accountant as they were, and the next step trains', async () => {
    const lin = new Linear({ name: 'lin', inFeatures: 3, outFeatures: 2, layout: 'in_out', weightInit: normalInit(0.5, 1) });
    const params = collectParams([lin]);
    const gradients = new PrivateGradients({ params, grouping: resolveGrouping('all-layer', params, { clipNorm: 1 }), noiseMultiplier: 0.5, expectedBatchSize: 4, seed: 3 });
    const optimizer = new Optimizer(adamw({ learningRate: 0.05 }), params);
    const accountant = createAccountant('rdp');
    const sampler = new ShuffleSampler({ datasetSize: 8, batchSize: 4, seed: 5 });
    let poison = false;
    const lossOf = (idx: Int32Array) =>
      tf.tidy(() => {
        const x = tf.tensor2d(Float32Array.from(Array.from(idx).flatMap((r) => Array.from(X.subarray(3 * r, 3 * r + 3)))), [idx.length, 3]);
        const l = tf.sum(tf.square(tf.sub(lin.apply(x), 1)), 1);
        return poison ? tf.mul(l, tf.tensor1d(Array.from(idx, (_, i) => (i === 1 ? NaN : 1)))) : l;
      });
    const parts = { sampler, gradients, optimizer, lossOf, maxPhysicalBatch: 2, accountant: { accountant, noiseMultiplier: 0.5 } };
    const state = async () => ({ weights: await Promise.all(params.map(async (p) => Array.from(await p.variable.data()))), opt: JSON.stringify(await optimizer.stateToJSON()), steps: accountant.steps });

    const first = await takeTrainStep(parts);
    expect(Number.isFinite(first.lossSum)).toBe(true);
    const after1 = await state();
    expect(after1.steps).toBe(1);

    poison = true;
    await expect(takeTrainStep(parts)).rejects.toThrowError(/loss is NaN on a micro-batch; the logical batch was discarded/);
    expect(await state()).toEqual(after1); // the weights, Adam's moments and count, the accountant's steps

    poison = false;
    const third = await takeTrainStep(parts);
    expect(Number.isFinite(third.lossSum)).toBe(true);
    const after3 = await state();
    expect(after3.steps).toBe(2);
    expect(after3.weights).not.toEqual(after1.weights);
    expect(JSON.parse(after3.opt)[0].count).toBe(2); // Adam's bias correction counts only the released steps
    optimizer.dispose();
    lin.dispose();
  });
});
