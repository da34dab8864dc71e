import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './reduction-grads';

// d/dx Σ_k c_k · reduce(x)_k: each x element gets the c of the output element it was reduced into
// (divided by the reduced count for mean). Computed here index by index, independently of TF.js.
function expected(shape: number[], axes: number[], c: Float64Array, mean: boolean): number[] {
  const size = shape.reduce((a, b) => a * b, 1);
  const outShape = shape.map((s, i) => (axes.includes(i) ? 1 : s));
  const count = axes.reduce((n, a) => n * shape[a]!, 1);
  const out: number[] = [];
  for (let flat = 0; flat < size; flat++) {
    let rem = flat;
    const idx = shape.map(() => 0);
    for (let i = shape.length - 1; i >= 0; i--) {
      idx[i] = rem % shape[i]!;
      rem = Math.floor(rem / shape[i]!);
    }
    let o = 0;
    for (let i = 0; i < shape.length; i++) o = o * outShape[i]! + (axes.includes(i) ? 0 : idx[i]!);
    out.push(c[o]! / (mean ? count : 1));
  }
  return out;
}

describe('Sum and Mean gradients (device-side broadcast)', () => {
  const shape = [2, 3, 4];
  const cases: Array<{ axis: number | number[] | null; axes: number[]; keepDims: boolean }> = [
    { axis: null, axes: [0, 1, 2], keepDims: false },
    { axis: 1, axes: [1], keepDims: false },
    { axis: -1, axes: [2], keepDims: true },
    { axis: [0, 2], axes: [0, 2], keepDims: false },
  ];
  for (const op of ['sum', 'mean'] as const) {
    for (const { axis, axes, keepDims } of cases) {
      it(`${op} over axis ${JSON.stringify(axis)}${keepDims ? ' (keepDims)' : ''} matches the hand-computed gradient`, async () => {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
        const reduced = op === 'sum' ? tf.sum(x, axis ?? undefined, keepDims) : tf.mean(x, axis ?? undefined, keepDims);
        const c = tf.randomNormal(reduced.shape, 0, 1, 'float32', 4);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op === 'sum' ? tf.sum(t, axis ?? undefined, keepDims) : tf.mean(t, axis ?? undefined, keepDims), c)))(x);
        const want = expected(shape, axes, Float64Array.from(await c.data()), op === 'mean');
        const got = Array.from(await g.data());
        got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
        tf.dispose([x, reduced, c, g]);
      });
    }
  }
});
