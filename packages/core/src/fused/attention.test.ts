import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { attention, attentionPacked } from './attention';
import { setFusedKernels } from './fused-kernels';
import { setMatmulTileOverride } from '../webgpu/matmul/matmul-plan';
import { relErr } from '../../../../tooling/test/rel-err';


/** Value and input gradients of `f` under a fixed upstream gradient, fused kernels on or off. */
async function run(f: (...x: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor, fused: boolean): Promise<Float32Array[]> {
  setFusedKernels(fused);
  try {
    const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => f(...a))(xs, dy);
    const out = [await value.data(), ...(await Promise.all(grads.map((g) => g.data())))] as Float32Array[];
    tf.dispose([value, ...grads]);
    return out;
  } finally {
    setFusedKernels(true);
  }
}

describe('fused attention equals the plain TF.js ops (values and gradients)', () => {
  // GPT-2-like (T multiple of 4), ViT-like odd T (scalar loads), T = 1, B = 1
  const cases: [number, number, number, number][] = [[2, 8, 16, 2], [2, 13, 24, 3], [1, 1, 8, 2], [3, 5, 12, 1]];
  for (const [b, t, d, heads] of cases)
    for (const causal of [true, false]) {
      it(`packed qkv [${b}, ${t}, ${3 * d}], ${heads} heads, causal ${causal}`, async () => {
        const qkv = tf.randomNormal([b, t, 3 * d], 0, 1, 'float32', 1);
        const dy = tf.randomNormal([b, t, d], 0, 1, 'float32', 2);
        const f = (x: tf.Tensor) => attentionPacked(x as tf.Tensor3D, { heads, causal });
        const before = tf.memory().numTensors;
        const fused = await run(f, [qkv], dy, true);
        const plain = await run(f, [qkv], dy, false);
        expect(tf.memory().numTensors).toBe(before);
        fused.forEach((v, i) => expect(relErr(v, plain[i]!)).toBeLessThan(1e-5));
        tf.dispose([qkv, dy]);
      });
      it(`separate q, k, v [${b}, ${t}, ${d}], ${heads} heads, causal ${causal}`, async () => {
        const xs = [1, 2, 3].map((s) => tf.randomNormal([b, t, d], 0, 1, 'float32', s + 10));
        const dy = tf.randomNormal([b, t, d], 0, 1, 'float32', 20);
        const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => attention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, { heads, causal });
        const fused = await run(f, xs, dy, true);
        const plain = await run(f, xs, dy, false);
        expect(fused).toHaveLength(4);
        fused.forEach((v, i) => expect(relErr(v, plain[i]!)).toBeLessThan(1e-5));
        tf.dispose([...xs, dy]);
      });
    }

  // the narrow products' tiles (setNarrowTiles: tall 128 × 64, medium 64 × 64) under the strided views
  // of every product, rows past T and columns past the head width masked: T = 70 spans a tile and a part
  for (const tile of ['tall', 'medium'] as const) {
    it(`on the ${tile} tile (every product forced onto it): the same values and gradients`, async () => {
      const qkv = tf.randomNormal([2, 70, 3 * 24], 0, 1, 'float32', 5);
      const dy = tf.randomNormal([2, 70, 24], 0, 1, 'float32', 6);
      const f = (x: tf.Tensor) => attentionPacked(x as tf.Tensor3D, { heads: 2, causal: tile === 'medium' });
      setMatmulTileOverride({ tile });
      let fused: Float32Array[];
      try {
        fused = await run(f, [qkv], dy, true);
      } finally {
        setMatmulTileOverride(null);
      }
      const plain = await run(f, [qkv], dy, false);
      fused.forEach((v, i) => expect(relErr(v, plain[i]!)).toBeLessThan(1e-5));
      tf.dispose([qkv, dy]);
    });
  }

  it('rejects a width that the heads do not divide', () => {
    expect(() => attentionPacked(tf.zeros([1, 2, 30]) as tf.Tensor3D, { heads: 4, causal: true })).toThrow(/divisible by 4 heads/);
  });
});
