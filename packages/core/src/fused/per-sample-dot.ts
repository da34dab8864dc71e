import * as tf from '@tensorflow/tfjs-core';
import { fusedOnDevice, runRow, type RowSpec } from './fused-kernels';

/** Σ_j x_j y_j of each row ([rows]), inputs X and Y: one workgroup a row. */
const ROW_DOT: RowSpec = {
  key: 'rowDot',
  inputs: [
    { name: 'X', kind: 'row' },
    { name: 'Y', kind: 'row' },
  ],
  phases: [[{ name: 's', expr: 'f32(x) * f32(y)', op: 'sum' }]],
  out: 's',
  perRow: true,
};

/**
 * Per-sample inner products ⟨x_i, y_i⟩ ([B]) of two tensors with the same number of entries per
 * sample, as one batched matmul [B, 1, n]·[B, n, 1] instead of a multiply and a sum: on webgpu each
 * kernel launch costs tens of µs of CPU, and these run for every parameter of every private step.
 * On webgpu it is one row-reduction kernel (a workgroup per sample); on wasm the matmul kernel runs
 * that product shape as a multiply and a row sum.
 *
 * @example
 * perSampleDot(aa, gg); // Σ_{t,s} aa_its gg_its, the ghost norm of a linear weight
 */
export function perSampleDot(x: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
  const b = x.shape[0]!;
  // webgpu: one row reduction (TF.js's matmul for [B, 1, n]·[B, n, 1] took 0.65 ms for ViT's n = 197²)
  if (fusedOnDevice() && x.dtype === 'float32' && y.dtype === 'float32') return runRow(ROW_DOT, { X: x, Y: y }, [b, x.size / b]) as tf.Tensor1D;
  return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(x, [b, 1, -1]) as tf.Tensor3D, tf.reshape(y, [b, 1, -1]) as tf.Tensor3D, false, true), [b]));
}

/** Per-sample squared norms ‖x_i‖² ([B]) of a [B, ...] tensor, in one launch (see `perSampleDot`). */
export function perSampleSqNorm(x: tf.Tensor): tf.Tensor1D {
  return perSampleDot(x, x);
}
