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
 * An element-wise function with its derivative written out: a WGSL kernel each way on webgpu,
 * `value`/`grad` (TF.js ops) elsewhere. `x` is saved for the backward; nothing else is.
 */
function elementwiseWithGrad(
  x: tf.Tensor,
  wgsl: { key: string; value: string; grad: string },
  ops: { value: (x: tf.Tensor) => tf.Tensor; grad: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor },
): tf.Tensor {
  const f = tf.customGrad((...args: unknown[]) => {
    const xin = args[0] as tf.Tensor;
    (args[1] as (ts: tf.Tensor[]) => void)([xin]);
    const onDevice = fusedOnDevice();
    return {
      value: onDevice ? runElementwise(wgsl.key, wgsl.value, { X: xin }, xin.shape) : tf.tidy(() => ops.value(xin)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved[0]!;
        return [onDevice ? runElementwise(`${wgsl.key}Grad`, wgsl.grad, { X: xs, G: dy }, xs.shape) : tf.tidy(() => ops.grad(xs, dy))];
      },
    };
  });
  return (f as (t: tf.Tensor) => tf.Tensor)(x);
}

/** σ(2u), u = √(2/π)(x + 0.044715 x³): 0.5 (1 + tanh u) with TF.js's sigmoid, no tanh and no pow. */
function geluGate(x: tf.Tensor): tf.Tensor {
  const x2 = tf.mul(x, x);
  return tf.sigmoid(tf.mul(tf.mul(x, tf.add(1, tf.mul(A, x2))), 2 * C));
}

/**
 * GPT-2's `gelu_new`, 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))), with its derivative written out:
 * one kernel forward and one backward on webgpu (plain TF.js: ~7 forward and ~15 backward). Off the
 * GPU it is x·σ(2u), the same function: TF.js's wasm `Sigmoid` is XNNPACK's SIMD kernel (~500M
 * elements/s on 2 threads) where `Tanh` calls libm per element (~66M/s), a tenth of the demo's step.
 *
 * @example
 * const h = geluTanh(tf.randomNormal([2, 8]));
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  if (!fusedKernelsEnabled()) return geluTanhPlain(x);
  return elementwiseWithGrad(
    x,
    { key: 'geluTanh', ...fusedActivationWgsl('geluTanh') },
    {
      value: (xs) => tf.mul(xs, geluGate(xs)),
      // d/dx x·s = s + x·s(1 − s)·2√(2/π)(1 + 3·0.044715 x²)
      grad: (xs, dy) => {
        const s = geluGate(xs);
        const du = tf.add(tf.mul(tf.mul(xs, xs), 3 * A * 2 * C), 2 * C);
        return tf.mul(dy, tf.add(s, tf.mul(tf.mul(xs, tf.mul(s, tf.sub(1, s))), du)));
      },
    },
  );
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
 * written out: one kernel each way on webgpu (plain TF.js: ~6 forward and ~12 backward). Off the GPU
 * the same formulas as TF.js ops, saving only x for the backward.
 *
 * @example
 * const h = geluErf(tf.randomNormal([2, 8]));
 */
export function geluErf(x: tf.Tensor): tf.Tensor {
  if (!fusedKernelsEnabled()) return geluErfPlain(x);
  return elementwiseWithGrad(
    x,
    { key: 'geluErf', ...fusedActivationWgsl('geluErf') },
    {
      value: geluErfPlain,
      grad: (xs, dy) => {
        const cdf = tf.mul(tf.add(tf.erf(tf.mul(xs, Math.SQRT1_2)), 1), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.mul(xs, xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)));
      },
    },
  );
}

/** The activations a matmul can apply in its epilogue (`Linear.applyAct`): GPT-2's `gelu_new` and exact GELU. */
export type FusedActivation = 'geluTanh' | 'geluErf';

/** An activation's WGSL, in terms of `x` (and `g`, its output's gradient, for `grad`). */
export function fusedActivationWgsl(kind: FusedActivation): { readonly value: string; readonly grad: string } {
  if (kind === 'geluTanh') {
    const t = WGSL_T;
    return {
      value: `0.5 * x * (1.0 + ${t})`,
      grad: `g * (0.5 * (1.0 + ${t}) + 0.5 * x * (1.0 - ${t} * ${t}) * ${C} * (1.0 + ${3 * A} * x * x))`,
    };
  }
  return {
    value: `0.5 * x * (1.0 + ${WGSL_ERF})`,
    grad: `g * (0.5 * (1.0 + ${WGSL_ERF}) + x * exp(-0.5 * x * x) * ${1 / Math.sqrt(2 * Math.PI)})`,
  };
}

/** The activation itself as TF.js ops with its own gradient: `geluTanh` or `geluErf`. */
export function applyActivation(kind: FusedActivation, x: tf.Tensor): tf.Tensor {
  return kind === 'geluTanh' ? geluTanh(x) : geluErf(x);
}

/** dy ⊙ act'(x) in one launch (webgpu): the backward of an activation fused into a matmul's epilogue. */
export function activationGrad(kind: FusedActivation, x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return runElementwise(`${kind}Grad`, fusedActivationWgsl(kind).grad, { X: x, G: dy }, x.shape);
}
