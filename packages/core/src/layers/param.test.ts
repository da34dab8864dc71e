import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { normalInit } from './param';

describe('normalInit', () => {
  it('is reproducible for every seed, including 0 (which TF.js alone treats as unseeded)', async () => {
    for (const seed of [0, 1, 42]) {
      const a = tf.tidy(() => normalInit(0.02, seed)([64]));
      const b = tf.tidy(() => normalInit(0.02, seed)([64]));
      expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
      tf.dispose([a, b]);
    }
    const s0 = tf.tidy(() => normalInit(0.02, 0)([64]));
    const s1 = tf.tidy(() => normalInit(0.02, 1)([64]));
    expect(Array.from(await s0.data())).not.toEqual(Array.from(await s1.data()));
    tf.dispose([s0, s1]);
  });
});
