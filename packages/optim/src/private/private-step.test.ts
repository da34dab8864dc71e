import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ClipwiseConfigError, ClipwisePrivacyError, Linear, clearDeviceErrors, watchDeviceErrors } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { TinyLm, tokenBatch } from '../../test/tiny-lm';
import { adamw } from '../transforms/adam';
import { Optimizer } from '../optimizer';
import { PrivateGradients } from './private-gradients';
import { NonPrivateGradients } from './non-private-gradients';

describe('a private training step', () => {
  it('does not grow tf.memory().numTensors over 10 steps (private and non-private)', async () => {
    const model = new TinyLm(11, 8, 'leak');
    const { ids, targets } = tokenBatch(4, 5, 11, 1);
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 1 });
    const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 1 });
    const npg = new NonPrivateGradients(model.params);
    const opt = new Optimizer(adamw({ learningRate: 1e-3 }), model.params);
    const counts: number[] = [];
    for (let s = 0; s < 10; s++) {
      const src = s % 2 === 0 ? pg : npg;
      await src.accumulate(() => model.perSampleLoss(ids, targets));
      const { grads } = (await src.release());
      opt.step(grads);
      tf.dispose([...grads.values()]);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(2)).size).toBe(1);
    opt.dispose();
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('the non-private baseline (unweighted sums, no clip factors) equals TF.js\'s own mean gradient', async () => {
    const model = new TinyLm(11, 8, 'plain');
    const { ids, targets } = tokenBatch(5, 4, 11, 13);
    const npg = new NonPrivateGradients(model.params);
    await npg.accumulate(() => model.perSampleLoss(ids.slice([0], [2]), targets.slice([0], [2])));
    await npg.accumulate(() => model.perSampleLoss(ids.slice([2], [3]), targets.slice([2], [3])));
    const { grads, batchSize } = await npg.release();
    expect(batchSize).toBe(5);
    // the reference: layers run as plain TF.js ops outside any recording, one variableGrads of the mean
    const { value, grads: want } = tf.variableGrads(() => tf.mean(model.perSampleLoss(ids, targets)) as tf.Scalar, model.params.map((p) => p.variable));
    for (const p of model.params) {
      const [num, den] = tf.tidy(() => [tf.norm(tf.sub(grads.get(p.name)!, want[p.variable.name]!)), tf.norm(want[p.variable.name]!)]);
      expect((await num!.data())[0]! / (await den!.data())[0]!, p.name).toBeLessThan(1e-5);
      tf.dispose([num!, den!]);
    }
    tf.dispose([ids, targets, value, ...grads.values(), ...Object.values(want)]);
    model.dispose();
  });

  it('release reports the micro-batches\' loss sum, discards a batch with a non-finite loss whole, and the next step is clean', async () => {
    const model = new TinyLm(11, 8, 'defer');
    const { ids, targets } = tokenBatch(5, 4, 11, 21);
    const first = () => model.perSampleLoss(ids.slice([0], [2]), targets.slice([0], [2]));
    const rest = () => model.perSampleLoss(ids.slice([2], [3]), targets.slice([2], [3]));
    // the reference: the same losses as plain TF.js ops, read in float64
    const perSample = tf.tidy(() => model.perSampleLoss(ids, targets));
    const want = Array.from(await perSample.data()).reduce((a, b) => a + b, 0);
    perSample.dispose();
    const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 1 });
    const sources = [new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 5, seed: 3 }), new NonPrivateGradients(model.params)];
    for (const src of sources) {
      const before = tf.memory().numTensors;
      // a NaN in the first micro-batch is found at release, after the second was accumulated
      await src.accumulate(() => tf.mul(first(), tf.tensor1d([NaN, 1])));
      await src.accumulate(rest);
      await expect(src.release()).rejects.toThrowError(/loss is NaN on a micro-batch; the logical batch was discarded/);
      expect(tf.memory().numTensors, src.constructor.name).toBe(before);
      // nothing of the discarded batch carries over: the next step counts and sums only its own samples
      const a = await src.accumulate(first);
      const b = await src.accumulate(rest);
      const { grads, batchSize, lossSum } = await src.release();
      expect(batchSize).toBe(5);
      expect(lossSum).toBeCloseTo(want, 4);
      expect((await a.lossSum) + (await b.lossSum)).toBe(lossSum);
      tf.dispose([...grads.values()]);
      expect(tf.memory().numTensors, src.constructor.name).toBe(before);
    }
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('release fails with the device\'s first error report instead of releasing values from rejected command buffers, and leaks nothing', async () => {
    const model = new TinyLm(11, 8, 'device');
    const { ids, targets } = tokenBatch(3, 4, 11, 5);
    const grouping = resolveGrouping('all-layer', model.params, { clipNorm: 1 });
    const sources = [new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 3, seed: 3 }), new NonPrivateGradients(model.params)];
    // a device that reports as Dawn does when an allocation fails (the study's s12m cells, 2026-12-06)
    let report: (error: Error) => void = () => {};
    watchDeviceErrors({ addEventListener: (_type: string, l: (e: { error: Error }) => void) => (report = (error) => l({ error })) });
    class GPUOutOfMemoryError extends Error {}
    try {
      for (const src of sources) {
        const before = tf.memory().numTensors;
        await src.accumulate(() => model.perSampleLoss(ids, targets));
        report(new GPUOutOfMemoryError('vkAllocateMemory failed with VK_ERROR_OUT_OF_DEVICE_MEMORY'));
        report(new Error('[Invalid Buffer (unlabeled)] is invalid due to a previous error.'));
        // the losses are finite here (cpu ran every kernel): the report alone stops the release
        await expect(src.release()).rejects.toThrowError(/GPU device reported an error by the end of this logical batch.*\(1 more report followed\); its first report, GPUOutOfMemoryError:\nvkAllocateMemory failed/s);
        expect(tf.memory().numTensors, src.constructor.name).toBe(before);
        clearDeviceErrors();
        await src.accumulate(() => model.perSampleLoss(ids, targets));
        const { grads } = await src.release();
        tf.dispose([...grads.values()]);
      }
    } finally {
      clearDeviceErrors();
    }
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('training lowers the loss (σ small)', async () => {
    const model = new TinyLm(11, 8, 'learn');
    const { ids, targets } = tokenBatch(8, 5, 11, 3);
    const grouping = resolveGrouping('all-layer', model.params, { clipNorm: 10 });
    const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 0.01, expectedBatchSize: 8, seed: 1 });
    const opt = new Optimizer(adamw({ learningRate: 0.05 }), model.params);
    const losses: number[] = [];
    for (let s = 0; s < 15; s++) {
      const micro = await pg.accumulate(() => model.perSampleLoss(ids, targets));
      const { grads, lossSum } = await pg.release();
      expect(await micro.lossSum).toBe(lossSum); // one micro-batch: its loss is the step's
      losses.push(lossSum);
      opt.step(grads);
      tf.dispose([...grads.values()]);
    }
    expect(losses[14]!).toBeLessThan(0.8 * losses[0]!);
    opt.dispose();
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('layer-wise groups close during backward; all-layer closes only at the end', async () => {
    const model = new TinyLm(11, 8, 'close');
    const { ids, targets } = tokenBatch(3, 4, 11, 5);
    const closing = async (spec: string) => {
      const grouping = resolveGrouping(spec, model.params, { clipNorm: 1 });
      const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 0, expectedBatchSize: 3, seed: 1 });
      await pg.accumulate(() => model.perSampleLoss(ids, targets));
      const { grads, groups } = await pg.release();
      tf.dispose([...grads.values()]);
      return groups.map((g) => g.closedAfterRecords);
    };
    // 7 records (the tied wte arrives twice): all-layer closes after the 7th
    expect(await closing('all-layer')).toEqual([7]);
    const lw = await closing('layer-wise'); // groups in forward order: wte (tied, closes last), wpe, ln_1, c_fc, c_proj, ln_f
    expect(lw).toEqual([7, 6, 5, 4, 3, 2]);
    tf.dispose([ids, targets]);
    model.dispose();
  });

  it('rejects bad input with clear errors', async () => {
    const model = new TinyLm(11, 8, 'bad');
    const grouping = resolveGrouping('all-layer', model.params, { clipNorm: 1 });
    const base = { params: model.params, grouping, expectedBatchSize: 4, seed: 1 };
    expect(() => new PrivateGradients({ ...base, noiseMultiplier: -1 })).toThrowError(/noiseMultiplier.*-1/);
    expect(() => new PrivateGradients({ ...base, noiseMultiplier: 1, expectedBatchSize: 0 })).toThrowError(/expectedBatchSize/);
    expect(() => resolveGrouping('all-layer', model.params, { clipNorm: 0 })).toThrowError(/0/);
    expect(() => resolveGrouping('all-layer', model.params, { clipNorm: 1, thresholds: [-2] })).toThrowError(/-2/);
    expect(() => new PrivateGradients({ ...base, noiseMultiplier: 1, clipping: { fn: 'automatic', gamma: 0 } })).toThrowError(/gamma/);
    const pg = new PrivateGradients({ ...base, noiseMultiplier: 1 });
    const before = tf.memory().numTensors;
    const empty = tokenBatch(1, 4, 11, 1);
    await expect(pg.accumulate(() => model.perSampleLoss(empty.ids.slice([0], [0]), empty.targets.slice([0], [0])))).rejects.toThrowError(ClipwiseConfigError);
    // a non-finite loss is found when the step waits for the device (release): the batch is discarded whole
    await pg.accumulate(() => tf.tensor1d([NaN, 1]).mul(tf.sum(model.perSampleLoss(empty.ids.tile([2, 1]), empty.targets.tile([2, 1])))));
    await expect(pg.release()).rejects.toThrowError(/loss is NaN/);
    await expect(pg.accumulate(() => tf.sum(model.perSampleLoss(empty.ids, empty.targets)))).rejects.toThrowError(/one loss per sample/);
    expect(tf.memory().numTensors).toBe(before + 2);
    // a parameter left out of the step is a privacy error, not a silent non-private update
    const extra = new Linear({ name: 'bad.extra', inFeatures: 8, outFeatures: 8 });
    await expect(pg.accumulate(() => extra.apply(tf.ones([2, 8])).sum(1))).rejects.toThrowError(ClipwisePrivacyError);
    tf.dispose([empty.ids, empty.targets]);
    extra.dispose();
    model.dispose();
  });
});
