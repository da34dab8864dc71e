import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setFusedKernels } from '../fused/fused-kernels';
import { geluTanhPlain } from '../fused/gelu';
import { runOnWasm } from './on-wasm.test-util';

// Our wasm Pow (x², x³ by multiplies) against TF.js's own wasm Pow, values and gradients.
describe('wasm Pow kernel', () => {
  runOnWasm();

  const run = (e: number) =>
    tf.tidy(() => {
      const x = tf.randomNormal([3, 37], 0, 2, 'float32', 5);
      const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.pow(v, e), tf.cos(v)));
      return { y: tf.pow(x, e).dataSync(), dx: tf.grad(f)(x).dataSync(), gelu: tf.grad((v: tf.Tensor) => tf.sum(geluTanhPlain(v)))(x).dataSync() };
    });

  it.each([2, 3, 2.5, -1])('x^%s matches TF.js, values and gradients', (e) => {
    setFusedKernels(false);
    const want = run(e);
    setFusedKernels(true);
    const got = run(e);
    for (const k of ['y', 'dx', 'gelu'] as const) {
      for (let i = 0; i < want[k].length; i++) {
        if (Number.isNaN(want[k][i])) expect(got[k][i]).toBeNaN(); // x^2.5 of x < 0
        else expect(got[k][i]).toBeCloseTo(want[k][i]!, 3); // |x| ≤ ~8: a few ulps of libm's pow
      }
    }
  });
});
