import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { clippedOuterSum } from './clipped-outer-sum';

describe('clippedOuterSum equals Σ_b c_b x_bᵀ y_b in float64', () => {
  // vec4 loads, odd widths (scalar loads), long B·T (split-K), small m (plain path), c null
  const cases: [number, number, number, number, boolean][] = [[3, 5, 20, 17, true], [2, 130, 36, 40, true], [16, 128, 64, 48, true], [4, 7, 8, 30, true], [2, 9, 24, 20, false]];
  for (const [b, t, m, n, withC] of cases) {
    it(`x [${b}, ${t}, ${m}], y [${b}, ${t}, ${n}], c ${withC ? '[B]' : 'null'}`, async () => {
      const x = tf.randomNormal([b, t, m], 0, 1, 'float32', 1) as tf.Tensor3D;
      const y = tf.randomNormal([b, t, n], 0, 1, 'float32', 2) as tf.Tensor3D;
      const c = withC ? (tf.randomUniform([b], 0, 1, 'float32', 3) as tf.Tensor1D) : null;
      const out = clippedOuterSum(x, y, c);
      expect(out.shape).toEqual([m, n]);
      const [xv, yv, cv, got] = await Promise.all([x.data(), y.data(), c ? c.data() : Promise.resolve(null), out.data()]);
      let num = 0;
      let den = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let s0 = 0; s0 < b; s0++) for (let r = 0; r < t; r++) s += (cv ? cv[s0]! : 1) * xv[(s0 * t + r) * m + i]! * yv[(s0 * t + r) * n + j]!;
          num += (got[i * n + j]! - s) ** 2;
          den += s * s;
        }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
      tf.dispose([x, y, out, ...(c ? [c] : [])]);
    });
  }
});
