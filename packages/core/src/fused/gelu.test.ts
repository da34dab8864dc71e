import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runOnWasm } from '../wasm/on-wasm.test-util';
import { geluErf, geluTanh } from './gelu';

// GELU values and derivatives against float64 formulas, on the test backend and on wasm (where the
// tanh form runs as x·σ(2u) and both take their hand-written gradients).
const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;
const tanhRef = (x: number) => 0.5 * x * (1 + Math.tanh(C * (x + A * x ** 3)));
const tanhGradRef = (x: number) => {
  const t = Math.tanh(C * (x + A * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * A * x * x);
};
function erf(z: number): number {
  // series, exact enough at |z| ≤ 4; beyond that erf is ±1 to float32
  if (Math.abs(z) > 4) return Math.sign(z);
  let term = z;
  let sum = z;
  for (let n = 1; n < 200; n++) sum += (term *= (-z * z) / n) / (2 * n + 1);
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const erfRef = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const erfGradRef = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

const XS = [-30, -9, -4, -2.5, -1, -0.3, -1e-3, 0, 1e-3, 0.3, 1, 2.5, 4, 9, 30, ...Array.from({ length: 41 }, (_, i) => -5 + i / 4)];

// reads are asynchronous: webgpu in Node cannot read synchronously
async function check(f: (x: tf.Tensor) => tf.Tensor, ref: (x: number) => number, gradRef: (x: number) => number): Promise<void> {
  const x = tf.tensor1d(XS);
  const y = await f(x).data();
  const g = await tf.grad((v: tf.Tensor) => tf.sum(f(v)))(x).data();
  XS.forEach((v, i) => {
    expect(Math.abs(y[i]! - ref(v))).toBeLessThan(2e-6 * Math.max(1, Math.abs(v)));
    expect(Math.abs(g[i]! - gradRef(v))).toBeLessThan(2e-6);
  });
  x.dispose();
}

for (const where of ['test backend', 'wasm']) {
  describe(`GELU against float64 (${where})`, () => {
    if (where === 'wasm') runOnWasm();
    it('tanh form (GPT-2 gelu_new): values and derivative', () => check(geluTanh, tanhRef, tanhGradRef));
    it('erf form (ViT): values and derivative', () => check(geluErf, erfRef, erfGradRef));
  });
}
