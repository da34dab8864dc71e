import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { sumOfRowSqNorms, weightedRowSums } from './row-reductions';

/** Tensors [b, n_k] of the given widths, random, and their values. */
async function rowsOf(b: number, widths: number[]): Promise<{ rows: tf.Tensor2D[]; values: Float32Array[] }> {
  const rows = widths.map((n, k) => tf.randomNormal([b, n], 0, 1, 'float32', 10 + k) as tf.Tensor2D);
  return { rows, values: await Promise.all(rows.map(async (r) => (await r.data()) as Float32Array)) };
}

// widths below, at and above the workgroup's 256, odd ones; more tensors than one launch binds
const cases: [string, number, number[]][] = [
  ['one tensor, B = 1', 1, [7]],
  ['a layer norm pair', 4, [768, 768]],
  ['odd widths', 3, [1, 5, 257, 300, 513]],
  ['more tensors than a launch binds', 5, Array.from({ length: 40 }, (_, k) => 3 + ((k * 37) % 90))],
];

describe('sumOfRowSqNorms equals float64 Σ_k ‖g_k[i]‖²', () => {
  for (const [name, b, widths] of cases)
    for (const withInit of [false, true]) {
      it(`${name}${withInit ? ', with init' : ''}`, async () => {
        const { rows, values } = await rowsOf(b, widths);
        const init = withInit ? (tf.randomUniform([b], 0, 3, 'float32', 3) as tf.Tensor1D) : undefined;
        const iv = init ? await init.data() : null;
        const before = tf.memory().numTensors;
        let out!: tf.Tensor1D;
        const profile = await tf.profile(() => void (out = sumOfRowSqNorms(rows, init)));
        const launches = profile.kernels.filter((k) => k.name === 'ClipwiseRowSqNormSum').length;
        if (tf.getBackend() === 'webgpu') {
          // each launch binds its output and, after the first (or with init), the sums so far
          const most = storageBindingsPerDispatch(32);
          expect(launches).toBe(withInit ? Math.ceil(widths.length / (most - 2)) : 1 + Math.ceil(Math.max(0, widths.length - (most - 1)) / (most - 2)));
        } else {
          expect(launches).toBe(0);
        }
        expect(out.shape).toEqual([b]);
        const got = await out.data();
        for (let i = 0; i < b; i++) {
          let ref = iv ? iv[i]! : 0;
          widths.forEach((n, k) => {
            for (let j = 0; j < n; j++) ref += values[k]![i * n + j]! ** 2;
          });
          expect(Math.abs(got[i]! - ref) / ref).toBeLessThan(1e-5);
        }
        out.dispose();
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([...rows, ...(init ? [init] : [])]);
      });
    }

  it('refuses no tensors, rows of another batch, a rank-3 tensor and an init of the wrong size', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => sumOfRowSqNorms([])).toThrow(/sumOfRowSqNorms: no tensors/);
    expect(() => sumOfRowSqNorms([a, tf.zeros([3, 3]) as tf.Tensor2D])).toThrow(/every tensor must be \[B, n\] with B = 2, got \[3,3\]/);
    expect(() => sumOfRowSqNorms([tf.zeros([2, 3, 1]) as unknown as tf.Tensor2D])).toThrow(/got \[2,3,1\]/);
    expect(() => sumOfRowSqNorms([a], tf.zeros([3]) as tf.Tensor1D)).toThrow(/init must be \[2\], got \[3\]/);
    a.dispose();
  });
});

describe('weightedRowSums equals float64 Σ_i c_i g_k[i, :]', () => {
  for (const [name, b, widths] of cases) {
    it(name, async () => {
      const { rows, values } = await rowsOf(b, widths);
      const c = tf.randomUniform([b], 0, 1, 'float32', 4) as tf.Tensor1D;
      const cv = await c.data();
      const before = tf.memory().numTensors;
      let outs!: tf.Tensor1D[];
      const profile = await tf.profile(() => void (outs = weightedRowSums(c, rows)));
      const launches = profile.kernels.filter((k) => k.name === 'ClipwiseWeightedRowSums').length;
      const per = Math.floor((storageBindingsPerDispatch(32) - 1) / 2);
      expect(launches).toBe(tf.getBackend() === 'webgpu' ? Math.ceil(widths.length / per) : 0);
      expect(outs.map((o) => o.shape)).toEqual(widths.map((n) => [n]));
      for (let k = 0; k < widths.length; k++) {
        const n = widths[k]!;
        const got = await outs[k]!.data();
        for (let j = 0; j < n; j++) {
          let ref = 0;
          let scale = 0;
          for (let i = 0; i < b; i++) {
            ref += cv[i]! * values[k]![i * n + j]!;
            scale += Math.abs(cv[i]! * values[k]![i * n + j]!);
          }
          expect(Math.abs(got[j]! - ref)).toBeLessThanOrEqual(1e-6 * scale + 1e-7);
        }
      }
      tf.dispose(outs);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...rows, c]);
    });
  }

  it('refuses factors of another batch size', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const c = tf.ones([3]) as tf.Tensor1D;
    expect(() => weightedRowSums(c, [a])).toThrow(/the factors must be \[2\], got \[3\]/);
    tf.dispose([a, c]);
  });
});
