import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { columnSum, columnSumPair } from './column-sum';

/** Σ_t (and Σ_b unless perSample) of x ⊙ mul · w_b in float64. */
function reference(x: Float32Array, shape: [number, number, number], mul: Float32Array | null, w: Float32Array | null, perSample: boolean): Float64Array {
  const [b, t, p] = shape;
  const out = new Float64Array(perSample ? b * p : p);
  for (let i = 0; i < b; i++)
    for (let s = 0; s < t; s++)
      for (let j = 0; j < p; j++) {
        const k = (i * t + s) * p + j;
        out[perSample ? i * p + j : j]! += x[k]! * (mul ? mul[k]! : 1) * (w ? w[i]! : 1);
      }
  return out;
}

/** ‖got − ref‖ / ‖ref‖. */
function relativeError(got: ArrayLike<number>, ref: Float64Array): number {
  let num = 0;
  let den = 0;
  ref.forEach((r, i) => {
    num += (got[i]! - r) ** 2;
    den += r * r;
  });
  return Math.sqrt(num / den);
}

describe('columnSum (fused on webgpu) equals float64 sums', () => {
  // one chunk, several chunks (T > 128), samples × chunks > 128 (a third pass), B = 1, T = 1
  const shapes: [number, number, number][] = [[3, 5, 7], [2, 300, 70], [40, 200, 33], [1, 1, 5], [16, 128, 64]];
  for (const shape of shapes)
    for (const perSample of [true, false])
      for (const withMul of [false, true])
        for (const withWeights of [false, true]) {
          it(`[${shape}] perSample ${perSample}, mul ${withMul}, weights ${withWeights}`, async () => {
            const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor3D;
            const mul = withMul ? tf.randomNormal(shape, 0, 1, 'float32', 2) : undefined;
            const weights = withWeights ? (tf.randomUniform([shape[0]], 0, 1, 'float32', 3) as tf.Tensor1D) : undefined;
            const before = tf.memory().numTensors;
            const out = columnSum(x, { mul, weights, perSample });
            expect(out.shape).toEqual(perSample ? [shape[0], shape[2]] : [shape[2]]);
            const ref = reference((await x.data()) as Float32Array, shape, mul ? ((await mul.data()) as Float32Array) : null, weights ? ((await weights.data()) as Float32Array) : null, perSample);
            expect(relativeError(await out.data(), ref)).toBeLessThan(1e-5);
            out.dispose();
            expect(tf.memory().numTensors).toBe(before);
            tf.dispose([x, ...(mul ? [mul] : []), ...(weights ? [weights] : [])]);
          });
        }
});

describe('columnSumPair: both sums of a layer norm in one pass, the same numbers as two columnSum calls', () => {
  const shapes: [number, number, number][] = [[3, 5, 7], [2, 300, 70], [40, 200, 33], [1, 1, 5], [16, 128, 64]];
  for (const shape of shapes)
    for (const perSample of [true, false])
      for (const withWeights of [false, true]) {
        it(`[${shape}] perSample ${perSample}, weights ${withWeights}`, async () => {
          const x = tf.randomNormal(shape, 0, 1, 'float32', 4) as tf.Tensor3D;
          const mul = tf.randomNormal(shape, 0, 1, 'float32', 5);
          const weights = withWeights ? (tf.randomUniform([shape[0]], 0, 1, 'float32', 6) as tf.Tensor1D) : undefined;
          const before = tf.memory().numTensors;
          const [plain, weighted] = columnSumPair(x, mul, { weights, perSample });
          expect(tf.memory().numTensors).toBe(before + 2);
          const wantPlain = columnSum(x, { weights, perSample });
          const wantWeighted = columnSum(x, { mul, weights, perSample });
          expect(plain.shape).toEqual(wantPlain.shape);
          expect(weighted.shape).toEqual(wantWeighted.shape);
          // the same reduction order as columnSum's: equal bit for bit
          expect(Array.from(await plain.data())).toEqual(Array.from(await wantPlain.data()));
          expect(Array.from(await weighted.data())).toEqual(Array.from(await wantWeighted.data()));
          // and right: against float64
          const xs = (await x.data()) as Float32Array;
          const w = weights ? ((await weights.data()) as Float32Array) : null;
          expect(relativeError(await plain.data(), reference(xs, shape, null, w, perSample))).toBeLessThan(1e-5);
          expect(relativeError(await weighted.data(), reference(xs, shape, (await mul.data()) as Float32Array, w, perSample))).toBeLessThan(1e-5);
          tf.dispose([plain, weighted, wantPlain, wantWeighted, x, mul, ...(weights ? [weights] : [])]);
        });
      }

  it('rejects a mul or weights of the wrong shape by name', () => {
    const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    expect(() => columnSumPair(x, tf.zeros([2, 3, 5]))).toThrowError(/mul \[2,3,5\] must have x's shape \[2,3,4\]/);
    expect(() => columnSumPair(x, tf.zeros([2, 3, 4]), { weights: tf.zeros([3]) as tf.Tensor1D })).toThrowError(/weights \[3\] must be \[2\]/);
    x.dispose();
  });
});
