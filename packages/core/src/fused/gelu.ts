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
