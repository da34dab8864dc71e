import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { addGaussianNoise } from './gaussian-noise';
import { addGaussianNoiseToAll } from './noise-in-place';

describe('addGaussianNoiseToAll', () => {
  it('gives every tensor exactly addGaussianNoise’s numbers (several dispatches at any binding limit up to 32, odd sizes, std 0)', async () => {
    const shapes = [[3], [5, 7], [1], [1030], [2, 2, 2], [9], [4], [13, 3], [6], [1, 17], [257], ...Array.from({ length: 26 }, (_, i) => [i + 2])];
    const xs = shapes.map((s, k) => tf.randomNormal(s, 0, 1, 'float32', k + 1));
    const draws = shapes.map((_, k) => ({ seed: 7, stream: 100 + k, std: k === 4 ? 0 : 0.5 + k, scale: 1 / (k + 2) }));
    const expected = await Promise.all(xs.map(async (x, k) => {
      const e = addGaussianNoise(x, x.shape, draws[k]!);
      const v = await e.data();
      e.dispose();
      return v;
    }));
    const before = tf.memory().numTensors;
    const out = addGaussianNoiseToAll(xs, draws);
    expect(tf.memory().numTensors).toBe(before);
    for (let k = 0; k < out.length; k++) {
      expect(out[k]!.shape).toEqual(shapes[k]);
      const got = await out[k]!.data();
      expected[k]!.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    }
    tf.dispose(out);
  });

  it('leaves a tensor that shares its storage untouched (the result has storage of its own)', async () => {
    const x = tf.tensor1d([1, 2, 3, 4, 5]);
    const alias = tf.reshape(x, [5]);
    const [out] = addGaussianNoiseToAll([x], [{ seed: 1, stream: 2, std: 0, scale: 2 }]);
    expect(Array.from(await out!.data())).toEqual([2, 4, 6, 8, 10]);
    expect(Array.from(await alias.data())).toEqual([1, 2, 3, 4, 5]);
    tf.dispose([out!, alias]);
  });

  it('rejects a bad draw or a count mismatch', () => {
    expect(() => addGaussianNoiseToAll([tf.zeros([2])], [])).toThrow(/1 tensors but 0 draws/);
    expect(() => addGaussianNoiseToAll([tf.zeros([2])], [{ seed: -1, stream: 0, std: 1 }])).toThrow(/seed/);
  });
});
