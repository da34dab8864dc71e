import * as tf from '@tensorflow/tfjs-core';
import type { RowSpec } from '../webgpu/row-program';
import { registerWebgpuKernel, type WebGpuBackendLike } from '../webgpu/webgpu-program';
import { fusedOnDevice, runRowProgram } from './fused-kernels';
import { dispatchGhostPartials } from './ghost-sq-norm-split-wgsl';
import { ghostLayerWidth } from './ghost-sq-norm-wgsl';
import { perSampleDot } from './per-sample-dot';

const KERNEL = 'ClipwiseGhostSqNorm';
const PARTIALS_KERNEL = 'ClipwiseGhostSqNormPartials';

/**
 * Per-sample squared Frobenius norms ‖a_iᵀ g_i‖² = Σ_{t,s} ⟨a_it, a_is⟩⟨g_it, g_is⟩ ([B]) for
 * a [B, T, d] and g [B, T, p]: the ghost norm of a linear layer's per-sample weight gradient (Li et
 * al. 2022) without forming the per-sample gradients. On webgpu one kernel forms matching tiles of
 * both Gram matrices in registers and multiplies them there (neither B×T×T Gram is written), over the
 * upper triangle only (both Grams are symmetric: half the products), then a per-sample sum of the
 * tiles' partial sums: two launches where two matmuls and a row reduction were three, at half the
 * FLOPs. Elsewhere the two Grams and `perSampleDot`.
 *
 * @example
 * const sq = ghostSqNorm(a, dy); // [B]: ‖∂ℓ_i/∂W‖² of y = a W
 */
export function ghostSqNorm(a: tf.Tensor3D, g: tf.Tensor3D): tf.Tensor1D {
  const [b, t, d] = a.shape;
  if (a.rank !== 3 || g.rank !== 3 || g.shape[0] !== b || g.shape[1] !== t) {
    throw new Error(`ghostSqNorm: a [${a.shape}] and g [${g.shape}] must be [B, T, d] and [B, T, p] with the same B and T`);
  }
  if (ghostSqNormFuses(a, g)) return tf.engine().runKernel(KERNEL, { a, g }, {}) as tf.Tensor1D;
  return tf.tidy(() => perSampleDot(tf.matMul(a, a, false, true), tf.matMul(g, g, false, true)));
}

/**
 * `ghostSqNorm` before its last launch: the fused kernel's per-tile partial sums [B, P], whose row sums
 * are the squared norms, for a consumer that sums terms per sample anyway (a group's clip factors:
 * `sampleTermsClipFactors` takes them as a 'sum' term, one launch fewer a linear layer). With `bias`,
 * more workgroups of the same launch append the squared norm of the layer's per-sample bias gradient
 * ‖Σ_t g_it‖² in column chunks ([B, P + ⌈p/256⌉]): the row sums are then weight's plus bias's, for a
 * weight and bias clipped in one group, with no launch for the bias. Null where the fused kernel does
 * not run (off webgpu, K past its limit): use `ghostSqNorm` there.
 *
 * @example
 * const partials = ghostSqNormPartials(a, dy); // [B, P], or null
 * const both = ghostSqNormPartials(a, dy, { bias: true }); // rows sum to ‖∂ℓ_i/∂W‖² + ‖∂ℓ_i/∂b‖²
 */
export function ghostSqNormPartials(a: tf.Tensor3D, g: tf.Tensor3D, options: { bias?: boolean } = {}): tf.Tensor2D | null {
  if (a.rank !== 3 || g.rank !== 3 || g.shape[0] !== a.shape[0] || g.shape[1] !== a.shape[1]) {
    throw new Error(`ghostSqNormPartials: a [${a.shape}] and g [${g.shape}] must be [B, T, d] and [B, T, p] with the same B and T`);
  }
  return ghostSqNormFuses(a, g) ? (tf.engine().runKernel(PARTIALS_KERNEL, { a, g }, { bias: options.bias === true }) as tf.Tensor2D) : null;
}

/**
 * Whether the fused ghost-norm kernel runs for a [B, T, d] and g [B, T, p] (webgpu, float32, K within its
 * limit): where `ghostSqNormPartials` and `ghostSqNormPartialsMany` give partials rather than null.
 *
 * @example
 * if (ghostSqNormFuses(a, dy)) pairs.push({ a, g: dy, bias: true });
 */
export function ghostSqNormFuses(a: tf.Tensor3D, g: tf.Tensor3D): boolean {
  const [b, t, d] = a.shape;
  return fusedGhost && fusedOnDevice() && a.dtype === 'float32' && g.dtype === 'float32' && b > 0 && t > 0 && Math.max(d, g.shape[2]) <= MAX_FUSED_K;
}

/**
 * Longest K (d or p) the fused kernel takes: it cannot split K across workgroups, so a vocabulary-sized
 * output gradient (GPT-2's LM head, p = 50257) keeps the two Grams, whose matmuls split K.
 */
const MAX_FUSED_K = 4096;
let fusedGhost = true;

/** Turns the fused ghost-norm kernel off (the two Gram matmuls and a row reduction instead) or on: for before/after benchmarks and tests. */
export function setFusedGhostNorm(on: boolean): void {
  fusedGhost = on;
}

/** Whether the fused ghost-norm kernel is on (`setFusedGhostNorm`; on by default). */
export function fusedGhostNormEnabled(): boolean {
  return fusedGhost;
}

const SUM_ROW: RowSpec = {
  key: 'ghostPartialSum',
  inputs: [{ name: 'X', kind: 'row' }],
  phases: [[{ name: 's', expr: 'f32(x)', op: 'sum' }]],
  out: 's',
  perRow: true,
};

type GhostBackend = WebGpuBackendLike & { makeTensorInfo(s: number[], dt: tf.DataType): tf.TensorInfo; disposeData(id: unknown): void };

/** The fused kernel's launch: per-tile partials [B, P] (and with `bias` the bias's chunks after them). */
function dispatchPartials(be: GhostBackend, a: tf.TensorInfo, g: tf.TensorInfo, bias = false): tf.TensorInfo {
  const partials = be.makeTensorInfo([a.shape[0]!, ghostLayerWidth(a.shape[1]!, g.shape[2]!, bias)], 'float32');
  dispatchGhostPartials(partials, { a, g, bias }, 0);
  return partials;
}

registerWebgpuKernel(KERNEL, ({ inputs, backend }) => {
  const { a, g } = inputs as Record<string, tf.TensorInfo>;
  const be = backend as unknown as GhostBackend;
  const partials = dispatchPartials(be, a!, g!);
  const [b, pairs] = partials.shape as [number, number];
  const out = runRowProgram(be, SUM_ROW, [partials], b, pairs);
  be.disposeData(partials.dataId);
  return out;
});

registerWebgpuKernel(PARTIALS_KERNEL, ({ inputs, backend, attrs }) => {
  const { a, g } = inputs as Record<string, tf.TensorInfo>;
  return dispatchPartials(backend as unknown as GhostBackend, a!, g!, attrs['bias'] === true);
});
