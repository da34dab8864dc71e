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
});
