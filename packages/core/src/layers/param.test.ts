import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { normalInit } from './param';

describe('normalInit', () => {
  it('is reproducible for every seed, including 0 (which TF.js alone treats as unseeded)', () => {
    for (const seed of [0, 1, 42]) {
      const a = tf.tidy(() => normalInit(0.02, seed)([64]));
      const b = tf.tidy(() => normalInit(0.02, seed)([64]));
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
    }
    const s0 = tf.tidy(() => normalInit(0.02, 0)([64]));
    const s1 = tf.tidy(() => normalInit(0.02, 1)([64]));
    expect(Array.from(s0.dataSync())).not.toEqual(Array.from(s1.dataSync()));
    tf.dispose([s0, s1]);
  });
});
