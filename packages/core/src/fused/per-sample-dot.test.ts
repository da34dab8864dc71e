import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { perSampleDot, perSampleSqNorm } from './per-sample-dot';

describe('perSampleDot', () => {
  it('equals Σ_j x_ij y_ij per sample computed in float64 (rank 3 and rank 2, batch 1 included)', async () => {
    for (const shape of [[3, 5, 4], [1, 7], [4, 1, 1]]) {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 11);
      const y = tf.randomNormal(shape, 0, 1, 'float32', 12);
      const [xs, ys] = [Array.from(await x.data()), Array.from(await y.data())];
      const b = shape[0]!;
      const n = xs.length / b;
      const want = Array.from({ length: b }, (_, i) => xs.slice(i * n, (i + 1) * n).reduce((s, v, j) => s + v * ys[i * n + j]!, 0));
      const wantSq = Array.from({ length: b }, (_, i) => xs.slice(i * n, (i + 1) * n).reduce((s, v) => s + v * v, 0));
      const dot = perSampleDot(x, y);
      const sq = perSampleSqNorm(x);
      expect(dot.shape).toEqual([b]);
      const [got, gotSq] = [await dot.data(), await sq.data()];
      // float32 sums of n ≤ 20 products: a few ulps of the largest partial sum
      want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThan(1e-5 * Math.max(1, wantSq[i]!)));
      wantSq.forEach((w, i) => expect(Math.abs(gotSq[i]! - w) / w).toBeLessThan(1e-6));
      tf.dispose([x, y, dot, sq]);
    }
  });
});
