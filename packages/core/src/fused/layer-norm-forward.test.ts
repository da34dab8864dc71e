import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { layerNormForward } from './layer-norm-forward';

describe('layerNormForward (one launch on webgpu) equals float64 layer norm', () => {
  // d below / above the workgroup, odd; B = T = 1; more rows than one grid dimension holds (65,535)
  const shapes: number[][] = [[1, 1, 7], [2, 5, 300], [3, 768], [70000, 3]];
  for (const shape of shapes) {
    it(`[${shape}]`, async () => {
      const d = shape[shape.length - 1]!;
      const x = tf.add(tf.randomNormal(shape, 0, 2, 'float32', 1), 30); // a large mean: no E[x²] − E[x]² allowed
      const gamma = tf.randomNormal([d], 1, 0.3, 'float32', 2);
      const beta = tf.randomNormal([d], 0, 0.3, 'float32', 3);
      const eps = 1e-5;
      const before = tf.memory().numTensors;
      let out!: ReturnType<typeof layerNormForward>;
      const profile = await tf.profile(() => void (out = layerNormForward(x, gamma, beta, eps)));
      if (tf.getBackend() === 'webgpu') expect(profile.kernels.map((k) => k.name)).toEqual(['ClipwiseLayerNormForward']);
      expect(out.y.shape).toEqual(shape);
      expect(out.xhat.shape).toEqual(shape);
      expect(out.rstd.shape).toEqual(shape.slice(0, -1));
      const [xv, gv, bv, y, h, r] = await Promise.all([x, gamma, beta, out.y, out.xhat, out.rstd].map((t) => t.data()));
      const rows = x.size / d;
      for (let row = 0; row < rows; row += row < 10 ? 1 : 997) {
        const v = Array.from(xv!.subarray(row * d, (row + 1) * d));
        const mean = v.reduce((a, b) => a + b, 0) / d;
        const rstd = 1 / Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / d + eps);
        expect(Math.abs(r![row]! - rstd) / rstd).toBeLessThan(1e-4);
        for (let j = 0; j < d; j++) {
          const hw = (v[j]! - mean) * rstd;
          expect(Math.abs(h![row * d + j]! - hw)).toBeLessThan(1e-3);
          expect(Math.abs(y![row * d + j]! - (hw * gv![j]! + bv![j]!))).toBeLessThan(2e-3);
        }
      }
      tf.dispose([out.y, out.xhat, out.rstd]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, gamma, beta]);
    });
  }

  it('refuses γ or β that are not [d]', () => {
    const x = tf.zeros([2, 4]);
    expect(() => layerNormForward(x, tf.zeros([3]), tf.zeros([4]), 1e-5)).toThrow(/γ and β must be \[4\] \(x's last axis\), got \[3\] and \[4\]/);
    x.dispose();
  });
});
