import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelsEnabled, fusedOnDevice, runElementwise } from './fused-kernels';

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;

/** GPT-2's `gelu_new` as plain TF.js ops (differentiated by TF.js): the reference. */
export function geluTanhPlain(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(C, tf.add(x, tf.mul(A, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

// tanh of a clamped argument: WGSL's tanh may overflow to NaN for large |u| (tanh(±10) = ±1 in f32)
const WGSL_T = `tanh(clamp(${C} * (x + ${A} * x * x * x), -10.0, 10.0))`;

/**
 * GPT-2's `gelu_new`, 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))), with its derivative written out:
 * one kernel forward and one backward on webgpu (plain TF.js: ~7 forward and ~15 backward).
 *
 * @example
 * const h = geluTanh(tf.randomNormal([2, 8]));
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  if (!fusedKernelsEnabled()) return geluTanhPlain(x);
  const f = tf.customGrad((...args: unknown[]) => {
    const xin = args[0] as tf.Tensor;
    const save = args[1] as (ts: tf.Tensor[]) => void;
    save([xin]);
    const value = fusedOnDevice() ? runElementwise('geluTanh', `0.5 * x * (1.0 + ${WGSL_T})`, { X: xin }, xin.shape) : geluTanhPlain(xin);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved[0]!;
        if (fusedOnDevice()) {
          const t = WGSL_T;
          return [runElementwise('geluTanhGrad', `g * (0.5 * (1.0 + ${t}) + 0.5 * x * (1.0 - ${t} * ${t}) * ${C} * (1.0 + ${3 * A} * x * x))`, { X: xs, G: dy }, xs.shape)];
        }
        return [
          tf.tidy(() => {
            const t = tf.tanh(tf.mul(C, tf.add(xs, tf.mul(A, tf.pow(xs, 3)))));
            const dt = tf.mul(tf.mul(tf.sub(1, tf.square(t)), C), tf.add(1, tf.mul(3 * A, tf.square(xs))));
            return tf.mul(dy, tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(tf.mul(0.5, xs), dt)));
          }),
        ];
      },
    };
  });
  return (f as (t: tf.Tensor) => tf.Tensor)(x);
}

/** Exact GELU as plain TF.js ops: the reference. */
export function geluErfPlain(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
}

// erf(x/√2) by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), the approximation TF.js's own Erf kernels use
const Z = `(x * ${Math.SQRT1_2})`;
const T = `(1.0 / (1.0 + 0.3275911 * abs(${Z})))`;
const WGSL_ERF = `(sign(${Z}) * (1.0 - (((((1.061405429 * ${T} - 1.453152027) * ${T} + 1.421413741) * ${T} - 0.284496736) * ${T} + 0.254829592) * ${T}) * exp(-${Z} * ${Z})))`;

/**
 * Exact GELU (ViT, BERT), 0.5 x (1 + erf(x/√2)), with its derivative 0.5 (1 + erf(x/√2)) + x φ(x)
 * written out: one kernel each way on webgpu (plain TF.js: ~6 forward and ~12 backward).
 *
 * @example
 * const h = geluErf(tf.randomNormal([2, 8]));
 */
export function geluErf(x: tf.Tensor): tf.Tensor {
  if (!fusedOnDevice()) return geluErfPlain(x);
  const f = tf.customGrad((...args: unknown[]) => {
    const xin = args[0] as tf.Tensor;
    const save = args[1] as (ts: tf.Tensor[]) => void;
    save([xin]);
    return {
      value: runElementwise('geluErf', `0.5 * x * (1.0 + ${WGSL_ERF})`, { X: xin }, xin.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        runElementwise('geluErfGrad', `g * (0.5 * (1.0 + ${WGSL_ERF}) + x * exp(-0.5 * x * x) * ${1 / Math.sqrt(2 * Math.PI)})`, { X: saved[0]!, G: dy }, saved[0]!.shape),
      ],
    };
  });
  return (f as (t: tf.Tensor) => tf.Tensor)(x);
}
