import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setFusedKernels } from '../fused/fused-kernels';
import { runOnWasm } from './on-wasm.test-util';

// Core's wasm Slice, SplitV, GatherV2, Sum and broadcast Equal against TF.js's cpu backend (its
// wasm GatherV2 with batchDims > 0 is wrong: see the test), on shapes that take each path: whole
// trailing axes, one-element runs, batchDims.
type Values = { shape: number[]; dtype: string; data: number[] }[];

/** What `f` gives, as plain values (its tensors freed). */
function valuesOf(f: () => tf.Tensor | tf.Tensor[]): Values {
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const v = list.map((t) => ({ shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync()) }));
  tf.dispose(list);
  return v;
}

async function both(f: () => tf.Tensor | tf.Tensor[]): Promise<{ ours: Values; tfjs: Values }> {
  await tf.setBackend('cpu');
  const tfjs = valuesOf(f);
  await tf.setBackend('wasm');
  return { ours: valuesOf(f), tfjs };
}

async function same(f: () => tf.Tensor | tf.Tensor[], closeTo = false): Promise<void> {
  const { ours, tfjs } = await both(f);
  expect(ours.length).toBe(tfjs.length);
  ours.forEach((o, i) => {
    expect(o.shape).toEqual(tfjs[i]!.shape);
    expect(o.dtype).toBe(tfjs[i]!.dtype);
    if (closeTo) o.data.forEach((v, j) => expect(v).toBeCloseTo(tfjs[i]!.data[j]!, 4));
    else expect(o.data).toEqual(tfjs[i]!.data);
  });
}

describe('wasm copy, sum and equal kernels match TF.js', () => {
  runOnWasm();
  const x4 = () => tf.randomNormal([3, 5, 7, 6], 0, 1, 'float32', 7);

  it.each([
    [[0, 0, 0, 0], [3, 5, 7, 6]],
    [[1, 0, 0, 0], [2, 5, 7, 6]],
    [[0, 2, 0, 0], [3, 2, 7, 6]],
    [[0, 0, 3, 1], [3, 5, 2, 4]],
    [[2, 4, 6, 5], [1, 1, 1, 1]],
    [[0, 1, 0, 0], [-1, -1, 3, -1]],
    [[0, 0, 0, 0], [3, 0, 7, 6]],
  ])('Slice begin %j size %j', async (begin, size) => await same(() => tf.slice(x4(), begin, size)));

  it('Slice of int32 and bool, and of rank 1 and 6', async () => {
    await same(() => tf.slice(tf.range(0, 60, 1, 'int32').reshape([6, 10]), [1, 3], [4, 5]));
    await same(() => tf.slice(tf.greater(x4(), 0), [1, 1, 1, 1], [2, 3, 4, 2]));
    await same(() => tf.slice(tf.range(0, 20), [3], [9]));
    await same(() => tf.slice(tf.randomNormal([2, 3, 2, 3, 2, 3], 0, 1, 'float32', 1), [1, 0, 1, 1, 0, 1], [1, 3, 1, 2, 2, 2]));
  });

  // x is [3, 5, 7, 6]: sizes that sum to the axis, and an even split into a count
  it.each<[number[] | number, number]>([[[2, 4, 1], 2], [[1, 4], 1], [3, 0], [[2, 4], 3], [[1, 1, 1], 0]])('SplitV %j on axis %i', async (sizes, axis) => {
    await same(() => tf.split(x4(), sizes, axis));
  });

  it('GatherV2: rows of a table, one element a slice with batchDims, int32 values, middle axis', async () => {
    const table = () => tf.randomNormal([50, 8], 0, 1, 'float32', 3);
    const ids = () => tf.tensor2d([[3, 0, 49, 3], [7, 7, 1, 2]], [2, 4], 'int32');
    await same(() => tf.gather(table(), ids()));
    await same(() => tf.gather(tf.randomNormal([2, 3, 50], 0, 1, 'float32', 4), tf.tensor2d([[3, 0, 49, 3], [7, 7, 1, 2]], [2, 4], 'int32'), 2, 1));
    await same(() => tf.gather(tf.range(0, 60, 1, 'int32').reshape([3, 4, 5]), tf.tensor1d([3, 0, 2], 'int32'), 1));
    await same(() => tf.gather(x4(), tf.tensor1d([6, 0], 'int32'), 2));
  });

  it("GatherV2 with batchDims is ours even with fused kernels off (TF.js's own wasm kernel gets it wrong)", async () => {
    const x = () => tf.range(0, 300).reshape([2, 3, 50]);
    const ids = () => tf.tensor2d([[3, 0, 49, 3], [7, 7, 1, 2]], [2, 4], 'int32');
    setFusedKernels(false);
    try {
      await same(() => tf.gather(x(), ids(), 2, 1));
      // x[1, 0, [7, 7, 1, 2]] = 150 + id, where TF.js 4.22's wasm kernel gives 199, 153, 157, 157
      expect(Array.from(tf.tidy(() => tf.gather(x(), ids(), 2, 1).slice([1, 0, 0], [1, 1, 4]).dataSync()))).toEqual([157, 157, 151, 152]);
    } finally {
      setFusedKernels(true);
    }
  });

  it('GatherV2: an index out of range is an error', async () => {
    expect(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([4], 'int32'))).toThrow(/index value 4 is not in \[0, 3\]/);
  });

  it.each([[[0]], [[0, 1]], [[1]], [[1, 2]], [[2]], [[3]], [[0, 1, 2, 3]], [[0, 2]]])('Sum over axes %j, keepDims both ways', async (axes) => {
    await same(() => tf.sum(x4(), axes), true);
    await same(() => tf.sum(x4(), axes, true), true);
    await same(() => tf.sum(tf.range(0, 210, 1, 'int32').reshape([5, 6, 7]), axes.filter((a) => a < 3)));
  });

  it.each([
    [[4, 3, 1], [4, 1, 3]],
    [[1, 5], [6, 1]],
    [[2, 3, 4], [4]],
    [[3, 1, 2, 1], [1, 4, 1, 5]],
    [[5], [1]],
  ])('Equal %j == %j (broadcast), int32 and float32', async (aShape, bShape) => {
    const ints = (shape: number[], seed: number) => tf.cast(tf.floor(tf.randomUniform(shape, 0, 3, 'float32', seed)), 'int32');
    await same(() => tf.equal(ints(aShape, 1), ints(bShape, 2)));
    await same(() => tf.equal(tf.cast(ints(aShape, 3), 'float32'), tf.cast(ints(bShape, 4), 'float32')));
  });
});
