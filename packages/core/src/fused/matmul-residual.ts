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
 * `outShape` (the same size as [M, N], e.g. the layer's [B, T, N]) writes the output in that shape, and
 * the residual may then be in it too.
 *
 * @example
 * const y = matMulPlusResidual(g2, w, { transposeB: false, bias, residual: x2 }); // x + g W + b
 */
export function matMulPlusResidual(a: tf.Tensor2D, b: tf.Tensor2D, o: { readonly transposeB: boolean; readonly bias?: tf.Tensor; readonly residual: tf.Tensor; readonly outShape?: readonly number[] }): tf.Tensor {
  const n = o.transposeB ? b.shape[0] : b.shape[1];
  const outShape = checkedOutShape(o.outShape, a.shape[0] * n, 'matMulPlusResidual');
  const product = [a.shape[0], n];
  if (!tf.util.arraysEqual(o.residual.shape, product) && !(outShape && tf.util.arraysEqual(o.residual.shape, outShape))) {
    throw new RangeError(`matMulPlusResidual: the residual must be the product's shape [${product.join(', ')}]${outShape ? ` or outShape [${outShape.join(', ')}]` : ''}, got [${o.residual.shape}]`);
  }
  const onDevice = fusedOnDevice() && [a, b, o.residual, ...(o.bias ? [o.bias] : [])].every((t) => t.dtype === 'float32');
  if (onDevice && matmulShape({ a, b, transposeA: false, transposeB: o.transposeB, bias: o.bias ?? null })) {
    const inputs: tf.NamedTensorMap = { a, b, residual: o.residual, ...(o.bias ? { bias: o.bias } : {}) };
    return tf.engine().runKernel(KERNEL, inputs, { transposeB: o.transposeB, ...(outShape ? { outShape } : {}) }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const y = tf.fused.matMul({ a, b, transposeB: o.transposeB, bias: o.bias });
    const shape = outShape ?? product;
    const inShape = (t: tf.Tensor) => (tf.util.arraysEqual(t.shape, shape) ? t : tf.reshape(t, shape));
    return tf.add(inShape(y), inShape(o.residual));
  });
}

/**
 * `outShape` when its size is `size` (the product's M·N), else a RangeError; null when not given. Why an
 * output shape at all: a product written in its caller's shape ([B, T, N]) needs no reshape after it,
 * and TF.js's memory count charges a reshape's view as bytes of its own while both are alive (a layer's
 * whole output, counted twice at the end of a forward).
 */
function checkedOutShape(outShape: readonly number[] | undefined, size: number, op: string): number[] | null {
  if (!outShape) return null;
  if (outShape.reduce((x, y) => x * y, 1) !== size) throw new RangeError(`${op}: outShape [${outShape}] does not hold the product's ${size} values`);
  return [...outShape];
}

/** The product's shape with the output in `attrs.outShape` where one is given (the same values, another shape). */
function withOutShape<S extends { outShape: number[] }>(shape: S, attrs: Record<string, unknown>): S {
  const outShape = attrs['outShape'] as number[] | null | undefined;
  return outShape ? { ...shape, outShape } : shape;
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { a, b, bias, residual } = inputs as Record<string, tf.TensorInfo | undefined>;
  const args = { a: a!, b: b!, transposeA: false, transposeB: attrs['transposeB'] as boolean, bias: bias ?? null, residual: residual! };
  return runMatmul(backend as unknown as Parameters<typeof runMatmul>[0], args, withOutShape(matmulShape(args)!, attrs));
});

/**
 * act(a · op(b) + bias) and the pre-activation a · op(b) + bias ([M, N] each) from one product on
 * webgpu: a linear layer and its GELU in one launch (the pre-activation is what the GELU's backward
 * reads). Null off the device, or for a product the tiled kernel does not take: the caller runs the
 * matmul and the activation apart. `outShape` as `matMulPlusResidual`'s. No gradient of its own: `Linear.applyAct` differentiates it.
 *
 * @example
 * const fused = matMulActivation(x2, w, { transposeB: false, bias, act: 'geluTanh' }); // { y, h } or null
 */
export function matMulActivation(a: tf.Tensor2D, b: tf.Tensor2D, o: { readonly transposeB: boolean; readonly bias?: tf.Tensor; readonly act: FusedActivation; readonly outShape?: readonly number[] }): { y: tf.Tensor; h: tf.Tensor } | null {
  const outShape = checkedOutShape(o.outShape, a.shape[0] * (o.transposeB ? b.shape[0] : b.shape[1]), 'matMulActivation');
  const onDevice = fusedOnDevice() && [a, b, ...(o.bias ? [o.bias] : [])].every((t) => t.dtype === 'float32');
  if (!onDevice || !matmulShape({ a, b, transposeA: false, transposeB: o.transposeB, bias: o.bias ?? null })) return null;
  const inputs: tf.NamedTensorMap = { a, b, ...(o.bias ? { bias: o.bias } : {}) };
  const [y, h] = tf.engine().runKernel(ACT_KERNEL, inputs, { transposeB: o.transposeB, act: o.act, ...(outShape ? { outShape } : {}) }) as tf.Tensor[];
  return { y: y!, h: h! };
}

registerWebgpuKernel(ACT_KERNEL, ({ inputs, backend, attrs }) => {
  const { a, b, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
  const kind = attrs['act'] as FusedActivation;
  const args = { a: a!, b: b!, transposeA: false, transposeB: attrs['transposeB'] as boolean, bias: bias ?? null, act: { key: kind, wgsl: fusedActivationWgsl(kind).value } };
  return runMatmulAct(backend as unknown as Parameters<typeof runMatmul>[0], args, withOutShape(matmulShape(args)!, attrs)) as unknown as tf.TensorInfo;
});
