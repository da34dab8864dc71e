import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { readAll } from './read-all';

describe('readAll', () => {
  it('returns each tensor\'s values, in order, whatever their shapes, and frees what it made', async () => {
    const ts = [tf.tensor1d([1, 2, 3]), tf.tensor2d([[4, 5], [6, 7]]), tf.tensor1d([]), tf.scalar(8)];
    const before = tf.memory().numTensors;
    const got = await readAll(ts);
    expect(got.map((a) => Array.from(a))).toEqual([[1, 2, 3], [4, 5, 6, 7], [], [8]]);
    expect(tf.memory().numTensors).toBe(before);
    expect((await readAll([ts[0]!])).map((a) => Array.from(a))).toEqual([[1, 2, 3]]);
    expect(await readAll([])).toEqual([]);
    tf.dispose(ts);
  });

  it('with dispose: the inputs are freed (the many before the wait), the values still right', async () => {
    const before = tf.memory().numTensors;
    const ts = tf.tidy(() => [tf.tensor1d([1, 2]), tf.tensor2d([[3], [4]]), tf.scalar(5)].map((t) => tf.mul(t, 2)));
    const pending = readAll(ts, { dispose: true });
    // enqueued: freed already, before the device answers
    expect(ts.every((t) => t.isDisposed)).toBe(true);
    expect((await pending).map((a) => Array.from(a))).toEqual([[2, 4], [6, 8], [10]]);
    const one = tf.tensor1d([7, 9]);
    expect((await readAll([one], { dispose: true })).map((a) => Array.from(a))).toEqual([[7, 9]]);
    expect(one.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
