import * as tf from '@tensorflow/tfjs-core';
import { matmulShape, runMatmul, runMatmulAct } from '../webgpu/matmul/matmul-kernel';
import { fusedActivationWgsl, type FusedActivation } from './gelu';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';

const KERNEL = 'ClipwiseMatMulResidual';
const ACT_KERNEL = 'ClipwiseMatMulAct';

/**
 * a · op(b) (+ bias) + residual for a [M, K] and residual [M, N]: a residual connection's
 * x + (g W + b) with the add in the product's epilogue on webgpu (one launch where the matmul and
 * the add were two, and the sum is written once); elsewhere the matmul and `tf.add`. No gradient of
 * its own: the recorded `Linear.applyPlus` differentiates it.
 *
 * @example
 * const y = matMulPlusResidual(g2, w, { transposeB: false, bias, residual: x2 }); // x + g W + b
 */
export function matMulPlusResidual(a: tf.Tensor2D, b: tf.Tensor2D, o: { readonly transposeB: boolean; readonly bias?: tf.Tensor; readonly residual: tf.Tensor2D }): tf.Tensor2D {
  const n = o.transposeB ? b.shape[0] : b.shape[1];
  if (o.residual.rank !== 2 || o.residual.shape[0] !== a.shape[0] || o.residual.shape[1] !== n) {
    throw new RangeError(`matMulPlusResidual: the residual must be the product's shape [${a.shape[0]}, ${n}], got [${o.residual.shape}]`);
  }
  const onDevice = fusedOnDevice() && [a, b, o.residual, ...(o.bias ? [o.bias] : [])].every((t) => t.dtype === 'float32');
  if (onDevice && matmulShape({ a, b, transposeA: false, transposeB: o.transposeB, bias: o.bias ?? null })) {
    const inputs: tf.NamedTensorMap = { a, b, residual: o.residual, ...(o.bias ? { bias: o.bias } : {}) };
    return tf.engine().runKernel(KERNEL, inputs, { transposeB: o.transposeB }) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.add(tf.fused.matMul({ a, b, transposeB: o.transposeB, bias: o.bias }), o.residual) as tf.Tensor2D);
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { a, b, bias, residual } = inputs as Record<string, tf.TensorInfo | undefined>;
  const args = { a: a!, b: b!, transposeA: false, transposeB: attrs['transposeB'] as boolean, bias: bias ?? null, residual: residual! };
  return runMatmul(backend as unknown as Parameters<typeof runMatmul>[0], args, matmulShape(args)!);
});

/**
 * act(a · op(b) + bias) and the pre-activation a · op(b) + bias ([M, N] each) from one product on
 * webgpu: a linear layer and its GELU in one launch (the pre-activation is what the GELU's backward
 * reads). Null off the device, or for a product the tiled kernel does not take: the caller runs the
 * matmul and the activation apart. No gradient of its own: `Linear.applyAct` differentiates it.
 *
 * @example
 * const fused = matMulActivation(x2, w, { transposeB: false, bias, act: 'geluTanh' }); // { y, h } or null
 */
export function matMulActivation(a: tf.Tensor2D, b: tf.Tensor2D, o: { readonly transposeB: boolean; readonly bias?: tf.Tensor; readonly act: FusedActivation }): { y: tf.Tensor2D; h: tf.Tensor2D } | null {
  const onDevice = fusedOnDevice() && [a, b, ...(o.bias ? [o.bias] : [])].every((t) => t.dtype === 'float32');
  if (!onDevice || !matmulShape({ a, b, transposeA: false, transposeB: o.transposeB, bias: o.bias ?? null })) return null;
  const inputs: tf.NamedTensorMap = { a, b, ...(o.bias ? { bias: o.bias } : {}) };
  const [y, h] = tf.engine().runKernel(ACT_KERNEL, inputs, { transposeB: o.transposeB, act: o.act }) as tf.Tensor2D[];
  return { y: y!, h: h! };
}

registerWebgpuKernel(ACT_KERNEL, ({ inputs, backend, attrs }) => {
  const { a, b, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
  const kind = attrs['act'] as FusedActivation;
  const args = { a: a!, b: b!, transposeA: false, transposeB: attrs['transposeB'] as boolean, bias: bias ?? null, act: { key: kind, wgsl: fusedActivationWgsl(kind).value } };
  return runMatmulAct(backend as unknown as Parameters<typeof runMatmul>[0], args, matmulShape(args)!) as unknown as tf.TensorInfo;
});
