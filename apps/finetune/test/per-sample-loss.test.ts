import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { gpuPoolStats, resetGpuPoolPeaks, setPoolFitUp, trimGpuBufferPool } from '@clipwise/core';
import { Gpt2Model } from '@clipwise/models';
import { batchLength, perSampleLossFn, setBoundedShapeTrim, shapeChangeTrimmer, targetLengths } from '../src/train/per-sample-loss';
import type { TaskData } from '../src/train/in-memory-task';
import { deviceCreations } from '../bench/host-counters';

// The step cuts each batch to its longest target (rounded up to 16): the losses and gradients must
// be those of the full padded rows, which the model computes here without any cut.
describe('the training loss of padded token rows', () => {
  const t = 40;
  const ends = [9, 23, 40, 14, 0]; // a row's target tokens end here (exclusive); the last row has none
  const n = ends.length;
  const inputIds = new Int32Array(n * t);
  const labelMask = new Uint8Array(n * t);
  ends.forEach((end, r) => {
    for (let j = 0; j < t; j++) inputIds[r * t + j] = j < end ? (7 * r + 3 * j) % 250 : 256; // 256: padding
    for (let j = Math.min(3, end); j < end; j++) labelMask[r * t + j] = 1; // prompt 0..2, then targets
  });
  const data = { kind: 'e2e', train: { inputIds, labelMask, n, t }, tokenizerName: 'byte' } as unknown as TaskData;

  it('row lengths end at the last target; a batch takes its longest, rounded up to 16, within [2, t]', () => {
    expect(Array.from(targetLengths(labelMask, n, t))).toEqual([9, 23, 40, 14, 0]);
    const lengths = targetLengths(labelMask, n, t);
    expect(batchLength(lengths, Int32Array.of(0), t)).toBe(16);
    expect(batchLength(lengths, Int32Array.of(0, 1), t)).toBe(32);
    expect(batchLength(lengths, Int32Array.of(1, 2), t)).toBe(40);
    expect(batchLength(lengths, Int32Array.of(4), t)).toBe(16);
  });

  // a micro-batch is cut to its logical batch's length (the step's other rows may be longer)
  it.each([[[0, 3], [0, 3]], [[1, 0, 3], [1, 0, 3]], [[2, 1], [2, 1]], [[0, 3], [0, 3, 1]], [[0], [4, 0, 2]]])('rows %j of the logical batch %j: the same losses and gradients as the uncut rows', async (rows, logical) => {
    const model = new Gpt2Model({ vocab_size: 257, n_positions: 64, n_embd: 16, n_layer: 2, n_head: 2 }, { seed: 4 });
    const idx = Int32Array.from(rows);
    const full = () => {
      const ids = tf.tensor2d(Int32Array.from(rows.flatMap((r) => Array.from(inputIds.subarray(r * t, (r + 1) * t)))), [rows.length, t], 'int32');
      const mask = tf.tensor2d(Float32Array.from(rows.flatMap((r) => Array.from(labelMask.subarray(r * t, (r + 1) * t)))), [rows.length, t]);
      return model.perSampleLoss(ids, mask);
    };
    const cut = () => perSampleLossFn(model, data)(idx, Int32Array.from(logical));
    const vars = model.params.map((p) => p.variable);
    // reads are asynchronous: webgpu in Node cannot read synchronously
    const read = async (ts: tf.Tensor[]) => {
      const values = await Promise.all(ts.map(async (x) => Array.from(await x.data())));
      tf.dispose(ts);
      return values;
    };
    const lossesOf = async (f: () => tf.Tensor) => (await read([f()]))[0]!;
    const gradsOf = (f: () => tf.Tensor) => read(Object.values(tf.variableGrads(() => tf.sum(f()) as tf.Scalar, vars).grads));
    const [a, b] = [await lossesOf(full), await lossesOf(cut)];
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
    const [ga, gb] = [await gradsOf(full), await gradsOf(cut)];
    ga.forEach((g, k) => g.forEach((v, i) => expect(gb[k]![i]).toBeCloseTo(v, 5)));
    model.dispose();
  });

  /** A narrow model, so that the activations (not the weights) fill the pool; its loss over `data` and its variables. */
  const narrowModel = () => {
    const model = new Gpt2Model({ vocab_size: 257, n_positions: 64, n_embd: 8, n_layer: 1, n_head: 2 }, { seed: 4 });
    return { model, lossOf: perSampleLossFn(model, data), vars: model.params.map((p) => p.variable) };
  };

  // webgpu's pool reuses a buffer for its size class only: without giving the free ones back when the
  // shape changes, alternating shapes held both shapes' buffers (the study's s12m: 15.9 GB for 4.3 in use)
  it.runIf(tf.getBackend() === 'webgpu')('alternating micro-batch shapes: the pool holds about one shape\'s buffers, not every shape\'s', async () => {
    const { model, lossOf, vars } = narrowModel();
    const step = async (rows: number[]) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(lossOf(Int32Array.from(rows))) as tf.Scalar, vars);
      await value.data();
      tf.dispose([value, ...Object.values(grads)]);
    };
    setPoolFitUp(1); // the default (whatever CLIPWISE_POOL_FIT_UP says)
    const peakOf = async (shapes: number[][]) => {
      trimGpuBufferPool(0); // from an empty pool
      resetGpuPoolPeaks();
      for (const rows of shapes) await step(rows);
      return gpuPoolStats()!.peakAllocated;
    };
    const a = Array.from({ length: 24 }, (_, i) => [0, 3][i % 2]!); // 24 rows × 16 tokens
    const b = Array.from({ length: 16 }, (_, i) => [2, 1, 3][i % 3]!); // 16 rows × 40 tokens
    try {
      await peakOf([a, b]); // compile both shapes' pipelines
      const alone = await peakOf([b, b]);
      const alternating = await peakOf([a, b, a, b, a, b]);
      // both shapes' buffers kept: 1.5× b's on lavapipe (6.16 against 4.11 MB); the trim keeps it at b's
      expect(alternating).toBeLessThanOrEqual(alone * 1.1);
    } finally {
      setPoolFitUp(null);
      model.dispose();
    }
  });

  // the bounded trim (opt-in): a shape change keeps free buffers up to the run's peak in use, where the
  // full trim keeps none; either way nothing in use is touched
  it.runIf(tf.getBackend() === 'webgpu')('at a shape change the full trim frees every free buffer, the bounded one keeps up to the peak in use', async () => {
    const { model, lossOf, vars } = narrowModel();
    setPoolFitUp(1); // the default (whatever CLIPWISE_POOL_FIT_UP says)
    const freeAfterChange = async (bounded: boolean) => {
      setBoundedShapeTrim(bounded);
      trimGpuBufferPool(0);
      resetGpuPoolPeaks();
      const trim = shapeChangeTrimmer();
      const { value, grads } = tf.variableGrads(() => tf.sum(lossOf(Int32Array.from([2, 1, 3, 2]))) as tf.Scalar, vars);
      await value.data();
      tf.dispose([value, ...Object.values(grads)]);
      trim(4, 40);
      trim(3, 40); // a new shape: the trim runs
      const s = gpuPoolStats()!;
      return { free: s.allocated - s.inUse, peakInUse: s.peakInUse };
    };
    try {
      expect((await freeAfterChange(false)).free).toBe(0);
      const bounded = await freeAfterChange(true);
      expect(bounded.free).toBeGreaterThan(0); // the step's activations stay for the next micro-batch
      expect(bounded.free).toBeLessThanOrEqual(bounded.peakInUse);
    } finally {
      setBoundedShapeTrim(null);
      setPoolFitUp(null);
      model.dispose();
    }
  });

  // fit up (opt-in): a smaller micro-batch after a larger one takes the larger one's free buffers
  // instead of creating its own, and computes the same values in them
  it.runIf(tf.getBackend() === 'webgpu')('with the pool fitting up, a smaller micro-batch after a larger one creates few buffers and gives the same loss and gradients', async () => {
    const { model, lossOf, vars } = narrowModel();
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const creations = deviceCreations(device);
    const big = Array.from({ length: 16 }, (_, i) => [2, 1, 3][i % 3]!);
    const small = big.slice(0, 8);
    const step = async (rows: number[]) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(lossOf(Int32Array.from(rows))) as tf.Scalar, vars);
      const out = [await value.data(), ...(await Promise.all(vars.map((v) => grads[v.name]!.data())))];
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const run = async (ratio: number | null) => {
      setPoolFitUp(ratio);
      trimGpuBufferPool(0);
      const trim = shapeChangeTrimmer();
      trim(big.length, 40);
      await step(big);
      trim(small.length, 40); // a new shape: the trim runs (with a fit up, it keeps the largest free buffers)
      creations.take();
      const values = await step(small);
      return { values, created: creations.take().buffers };
    };
    try {
      await run(1); // compile both shapes' pipelines
      const plain = await run(1);
      const fit = await run(256);
      // lavapipe: 6 (the reads' staging) against 156
      expect(fit.created).toBeLessThan(plain.created / 4);
      expect(fit.values).toEqual(plain.values);
    } finally {
      creations.restore();
      setPoolFitUp(null);
      model.dispose();
    }
  });
});
