import * as tf from '@tensorflow/tfjs-core';
import { storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { clipCapacity, MAX_CLIP_PARTIALS, MAX_CLIP_SAMPLES } from '../webgpu/matmul/matmul-clip-prologue';
import { matmulShape, planClipScaled, runClipScaledWithColumnSums, type MatmulArgs } from '../webgpu/matmul/matmul-kernel';
import { registerWebgpuKernel, rowsView } from '../webgpu/webgpu-program';
import { clippedOuterSum, clippedOuterSumWithBias } from './clipped-outer-sum';
import { columnSum } from './column-sum';
import { fusedOnDevice } from './fused-kernels';
import { sampleTermsClipFactors, type ClipEpilogue } from './row-reductions';

const KERNEL = 'ClipwiseClippedOuterSumBiasClip';
/** Storage buffers the one launch binds: C, A, B, DB, partials, norms, factors (and a bias apart's norms). */
const bindings = (apart: boolean) => (apart ? 8 : 7);

type Backend = Parameters<typeof planClipScaled>[0];

let clipInProduct = true;

/** Turns the one-launch path of `clippedOuterSumWithBiasFromTerms` off (its two launches instead) or on: for before/after benchmarks and tests. */
export function setClipInProduct(on: boolean): void {
  clipInProduct = on;
}

/** Whether `clippedOuterSumWithBiasFromTerms` may take its one-launch path (`setClipInProduct`). */
export function clipInProductEnabled(): boolean {
  return clipInProduct;
}

/** A linear layer's clipped sums with the clip factors they were scaled by, and the norms those came from. */
export interface ClippedSumsWithClip {
  readonly weight: tf.Tensor2D;
  readonly bias: tf.Tensor1D;
  /** Per-sample norms n_i = sqrt(Σ_w partials[i, w]), [B]. */
  readonly norms: tf.Tensor1D;
  /** Clip factors c_i from `norms` (`ClipEpilogue`), [B]. */
  readonly factors: tf.Tensor1D;
  /** With `biasApart`: the bias's own per-sample norms, [B] (`norms` and `factors` are then the weight's). */
  readonly biasNorms?: tf.Tensor1D;
}

/** A bias clipped in a group of its own: its squared norm is the partials' columns from `from` on, its threshold `threshold`. */
export interface BiasApart {
  readonly from: number;
  readonly threshold: number;
}

/**
 * `clippedOuterSumWithBias(x, y, c)` with c formed from a group's squared-norm partials [B, W] (a
 * linear layer's `ghostSqNormPartials(a, dy, { bias: true })`: row sums = the weight's plus the bias's
 * per-sample squared norms): n_i = sqrt(Σ_w partials[i, w]), c_i = C / max(n_i, C) (Abadi et al. 2016)
 * or C / (n_i + γ) (automatic clipping, Bu et al. 2023), then Book-Keeping's Σ_i c_i x_iᵀ y_i and the
 * bias sum (Bu et al. 2023, "Differentially private optimization on large model at small cost"). On
 * webgpu one launch: every workgroup of the tiled matmul forms the B factors before its main loop and
 * stages x scaled by them (`matmul-clip-prologue.ts`), where the factors were a launch of their own;
 * elsewhere, and past B = 1024, `sampleTermsClipFactors` then `clippedOuterSumWithBias`. Every
 * result is a new tensor; the inputs stay the caller's.
 *
 * `biasApart` (param-wise clipping: the weight and the bias each a group): the partials' columns from
 * `from` on are the bias's squared norm (the ghost-norm kernel's bias chunks come last), the others the
 * weight's; each gets its own norms and factors (the bias's threshold `biasApart.threshold`, the same
 * clipping function), and the bias's factors scale the product's bias row, still one launch on webgpu.
 *
 * @example
 * const partials = ghostSqNormPartials(a, dy, { bias: true })!; // webgpu: [B, W]
 * const { weight, bias, norms, factors } = clippedOuterSumWithBiasFromTerms(a, dy, partials, { threshold: 1, automatic: false, gamma: 0 });
 * const t = clippedOuterSumWithBiasFromTerms(dy, a, partials, clip, { biasOf: 'x' }); // an [out, in] weight
 * // param-wise: the weight's tile partials, then the bias's chunks, each group clipped at 0.5
 * const apart = clippedOuterSumWithBiasFromTerms(a, dy, partials, { ...clip, threshold: 0.5 }, { biasApart: { from: weightColumns, threshold: 0.5 } });
 */
export function clippedOuterSumWithBiasFromTerms(
  x: tf.Tensor3D,
  y: tf.Tensor3D,
  partials: tf.Tensor2D,
  clip: ClipEpilogue,
  options: { readonly biasOf?: 'x' | 'y'; readonly biasApart?: BiasApart } = {},
): ClippedSumsWithClip {
  const [b, t, m] = x.shape;
  const n = y.shape[2];
  const biasOf = options.biasOf ?? 'y';
  if (x.rank !== 3 || y.rank !== 3 || y.shape[0] !== b || y.shape[1] !== t) throw new Error(`clippedOuterSumWithBiasFromTerms: x [${x.shape}] and y [${y.shape}] must be [B, T, m] and [B, T, n]`);
  if (partials.rank !== 2 || partials.shape[0] !== b) throw new Error(`clippedOuterSumWithBiasFromTerms: partials [${partials.shape}] must be [${b}, W]`);
  const w = partials.shape[1];
  const apart = options.biasApart ?? null;
  if (apart && !(Number.isInteger(apart.from) && apart.from > 0 && apart.from < w)) throw new Error(`clippedOuterSumWithBiasFromTerms: biasApart.from ${apart.from} must split the partials' ${w} columns (0 < from < ${w})`);
  const device =
    clipInProduct && fusedOnDevice() && b * t > 0 && m > 0 && n > 0 && w > 0 && b <= MAX_CLIP_SAMPLES && b * w <= MAX_CLIP_PARTIALS &&
    [x, y, partials].every((v) => v.dtype === 'float32') && storageBindingsPerDispatch() >= bindings(apart !== null);
  if (device) {
    const attrs: Attrs = { t, biasOf, threshold: clip.threshold, gamma: clip.gamma, automatic: clip.automatic, biasFrom: apart?.from ?? 0, biasThreshold: apart?.threshold ?? 0 };
    if (planFor(tf.backend() as unknown as Backend, x, y, partials, attrs)?.plan) {
      const [weight, bias, norms, factors, biasNorms] = tf.engine().runKernel(KERNEL, { x, y, partials }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      const out = { weight: weight as tf.Tensor2D, bias: bias as tf.Tensor1D, norms: norms as tf.Tensor1D, factors: factors as tf.Tensor1D };
      return apart ? { ...out, biasNorms: biasNorms as tf.Tensor1D } : out;
    }
  }
  if (apart) return apartInOps(x, y, partials, clip, apart, biasOf);
  // the reference: the two launches the one replaces
  const { norms, factors } = sampleTermsClipFactors([{ kind: 'sum', tensor: partials }], clip);
  return { ...clippedOuterSumWithBias(x, y, factors, { biasOf }), norms, factors };
}

/** `biasApart` off the one-launch path: each parameter's factors from its columns, then the weight's product and the bias's weighted column sum. */
function apartInOps(x: tf.Tensor3D, y: tf.Tensor3D, partials: tf.Tensor2D, clip: ClipEpilogue, apart: BiasApart, biasOf: 'x' | 'y'): ClippedSumsWithClip {
  const [b, w] = partials.shape;
  const [ws, bs] = [tf.slice(partials, [0, 0], [b, apart.from]), tf.slice(partials, [0, apart.from], [b, w - apart.from])];
  const weightClip = sampleTermsClipFactors([{ kind: 'sum', tensor: ws }], clip);
  const biasClip = sampleTermsClipFactors([{ kind: 'sum', tensor: bs }], { ...clip, threshold: apart.threshold });
  const weight = clippedOuterSum(x, y, weightClip.factors);
  const bias = columnSum(biasOf === 'y' ? y : x, { weights: biasClip.factors }) as tf.Tensor1D;
  tf.dispose([ws, bs, biasClip.factors]);
  return { weight, bias, norms: weightClip.norms, factors: weightClip.factors, biasNorms: biasClip.norms };
}

interface Attrs {
  readonly t: number;
  readonly biasOf: 'x' | 'y';
  readonly threshold: number;
  readonly gamma: number;
  readonly automatic: boolean;
  /** The bias's first partials column when clipped apart (0: not apart), and its threshold. */
  readonly biasFrom: number;
  readonly biasThreshold: number;
}

function argsOf(x: tf.TensorInfo, y: tf.TensorInfo, partials: tf.TensorInfo, a: Attrs): MatmulArgs {
  const apart = a.biasFrom > 0 ? { from: a.biasFrom, threshold: a.biasThreshold } : null;
  const clipScale = { partials, group: a.t, threshold: a.threshold, gamma: a.gamma, automatic: a.automatic, capacity: clipCapacity(partials.shape[0]!), apart };
  return { a: x, b: y, transposeA: true, transposeB: false, clipScale };
}

/** The product's plan, or null where the tiled matmul or its workgroup memory does not take it (then the two launches). */
function planFor(backend: Backend, x: tf.TensorInfo, y: tf.TensorInfo, partials: tf.TensorInfo, a: Attrs) {
  // x, y [B, T, ·] as the product's [B·T, ·] rows
  const args = argsOf(rowsView(x), rowsView(y), partials, a);
  const shape = matmulShape(args);
  return shape ? { args, shape, plan: planClipScaled(backend, args, shape, a.biasOf === 'y' ? 'row' : 'col') } : null;
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { x, y, partials } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as Attrs;
  const planned = planFor(backend as unknown as Backend, x!, y!, partials!, a);
  if (!planned?.plan) throw new Error(`clippedOuterSumWithBiasFromTerms: the tiled matmul does not take x [${x!.shape}], y [${y!.shape}]`);
  // y's column sums: a row of ones under xᵀ; x's: a column of ones beside y
  const r = runClipScaledWithColumnSums(backend as unknown as Backend, planned.args, planned.shape, a.biasOf === 'y' ? 'row' : 'col', planned.plan);
  return [r.out, r.db, r.norms, r.factors, ...(r.biasNorms ? [r.biasNorms] : [])] as unknown as tf.TensorInfo;
});
