import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { columnSqNorms } from './column-sq-norms';

/** Σ_j (Σ_t dy_itj · x_itj)² per sample in float64 (x = 1 for the plain norms). */
function reference(dy: Float32Array, x: Float32Array | null, b: number, t: number, p: number): Float64Array {
  const out = new Float64Array(b);
  for (let i = 0; i < b; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < t; k++) s += dy[(i * t + k) * p + j]! * (x ? x[(i * t + k) * p + j]! : 1);
      out[i]! += s * s;
    }
  return out;
}

describe('columnSqNorms (fused on webgpu) equals float64 per-sample norms of column sums', () => {
  // T not a multiple of 4, p below / above / not a multiple of the workgroup, B = 1, T = 1
  const shapes: [number, number, number][] = [[3, 5, 7], [2, 128, 300], [1, 1, 9], [4, 197, 513], [16, 3, 64]];
  for (const [b, t, p] of shapes)
    for (const withX of [false, true]) {
      it(`[${b}, ${t}, ${p}] ${withX ? 'with' : 'without'} x`, async () => {
        const dy = tf.randomNormal([b, t, p], 0, 1, 'float32', 1) as tf.Tensor3D;
        const x = withX ? (tf.randomNormal([b, t, p], 0, 1, 'float32', 2) as tf.Tensor3D) : undefined;
        const before = tf.memory().numTensors;
        let out!: ReturnType<typeof columnSqNorms>;
        const profile = await tf.profile(() => void (out = columnSqNorms(dy, x)));
        expect(profile.kernelNames.includes('ClipwiseColumnSqNorms')).toBe(tf.getBackend() === 'webgpu');
        expect(out.weighted === undefined).toBe(!withX);
        const dv = (await dy.data()) as Float32Array;
        const xv = x ? ((await x.data()) as Float32Array) : null;
        const check = async (got: tf.Tensor1D, ref: Float64Array) => {
          expect(got.shape).toEqual([b]);
          const g = await got.data();
          ref.forEach((r, i) => expect(Math.abs(g[i]! - r) / r).toBeLessThan(1e-5));
        };
        await check(out.plain, reference(dv, null, b, t, p));
        if (x) await check(out.weighted!, reference(dv, xv, b, t, p));
        tf.dispose([out.plain, ...(out.weighted ? [out.weighted] : [])]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([dy, ...(x ? [x] : [])]);
      });
    }

  it('refuses a dy that is not [B, T, p] and an x of another shape', () => {
    const dy = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    expect(() => columnSqNorms(tf.zeros([2, 3]) as unknown as tf.Tensor3D)).toThrow(/dy must be \[B, T, p\], got \[2,3\]/);
    expect(() => columnSqNorms(dy, tf.zeros([2, 3, 5]) as tf.Tensor3D)).toThrow(/x \[2,3,5\] must have dy's shape \[2,3,4\]/);
    dy.dispose();
  });
});
