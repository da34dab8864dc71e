import * as tf from '@tensorflow/tfjs-core';
import { bindingLimitBytes } from '../../backend/binding-limit';
import { dispatchDirect, packUniforms } from '../direct-dispatch';
import { matmulWgsl, variantKey, type MatmulVariant } from './matmul-wgsl';
import { planMatmul, planOnTile, type MatmulPlan, type MatmulProductVariant, type MatmulTileName } from './matmul-plan';
import { splitSumWgsl } from './matmul-split-sum';
import { clipFitsWorkgroup } from './matmul-clip-prologue';
import { stagedClipPrologueEnabled } from '../clip-factor-wgsl';

/** The bk-8 tile of the same shape and layout, for a product that needs workgroup memory a bk-16 tile fills. */
const BK8_TWIN: Partial<Record<MatmulTileName, MatmulTileName>> = { large: 'large8', large16w: 'large8w' };

interface Backend {
  device: GPUDevice;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: unknown): void;
}

/** What a product needs: operands as stored, with the transposes read in place. */
export interface MatmulArgs {
  readonly a: tf.TensorInfo;
  readonly b: tf.TensorInfo;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  /** Added to every row of the output; `size` must equal N. */
  readonly bias?: tf.TensorInfo | null;
  /** Scales A's K axis: element k by `tensor[k / group]` (per-sample clip factors over B·T rows). */
  readonly kScale?: { readonly tensor: tf.TensorInfo; readonly group: number } | null;
  /** Scales A's K axis by clip factors the product forms from squared-norm partials (`MatmulClipScale`); not with `kScale`. */
  readonly clipScale?: MatmulClipScale | null;
  /** Added to the output element by element (the output's shape): a residual connection in the product's epilogue. */
  readonly residual?: tf.TensorInfo | null;
  /** An activation in the epilogue (`MatmulVariant.act`): the output is act(product + bias), and `runMatmulAct` also returns the product + bias. */
  readonly act?: { readonly key: string; readonly wgsl: string } | null;
}

/**
 * Clip factors formed inside the product (`matmul-clip-prologue.ts`): c_i from n_i = sqrt(Σ_w
 * partials[i, w]) for the B = K / group samples, C the threshold; A's row k scaled by c[k / group].
 */
export interface MatmulClipScale {
  readonly partials: tf.TensorInfo;
  readonly group: number;
  readonly threshold: number;
  readonly automatic: boolean;
  /** Automatic clipping's γ (unused by Abadi's). */
  readonly gamma: number;
  /** The workgroup array's length (`clipCapacity`), at least B. */
  readonly capacity: number;
  /**
   * A bias clipped in a group of its own (param-wise): the partials' columns from `from` on are its
   * squared norm's, its factors (threshold `threshold`, the same clipping function) scale the product's
   * row or column of ones, and the product writes its norms too.
   */
  readonly apart?: { readonly from: number; readonly threshold: number } | null;
}

/** The shape facts of a product, or null when it is not one this kernel takes (the caller falls back). */
export interface MatmulShape {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly strideA: number;
  readonly strideB: number;
  readonly outShape: number[];
}

/**
 * Every product runs the tiled kernel, however small: TF.js's own small-product programs read B past
 * its K extent (no bounds check in `mm_readB`) and multiply what they find by zero, which is 0 only
 * while the memory holds finite numbers. Pooled buffers are larger than their tensors (size classes)
 * and keep whatever an earlier step left, a NaN after a discarded non-finite batch included.
 */
const MIN_TILED = 1;

/**
 * Reads the product's shape. Supported: float32, rank ≥ 2, batch dimensions equal or one side's all 1
 * (broadcast), bias of N elements. Anything else returns null.
 */
export function matmulShape({ a, b, transposeA, transposeB, bias }: MatmulArgs): MatmulShape | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb || m < MIN_TILED || n < MIN_TILED || k < 1) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  let outer: number[];
  if (outerA.join(',') === outerB.join(',')) outer = outerA;
  else if (batchA === 1 && outerA.length <= outerB.length) outer = outerB;
  else if (batchB === 1 && outerB.length <= outerA.length) outer = outerA;
  else return null;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n)) return null;
  // every binding must fit the device's limit (2 GiB on Dawn): larger products stay with TF.js
  const limit = bindingLimitBytes();
  if (4 * Math.max(a.shape.reduce((x, y) => x * y, 1), b.shape.reduce((x, y) => x * y, 1), Math.max(batchA, batchB) * m * n) > limit) return null;
  const batch = Math.max(batchA, batchB);
  // [batch, M, K] (not transposed) times one shared B is one [batch·M, K] product: whole tiles
  // instead of a ragged tile per batch entry (ViT's 197 rows), and no reshape at the call site
  if (batchB === 1 && batchA > 1 && !transposeA) return { batch: 1, m: batchA * m, n, k, strideA: 0, strideB: 0, outShape: [...outer, m, n] };
  return { batch, m, n, k, strideA: batchA === 1 ? 0 : m * k, strideB: batchB === 1 ? 0 : k * n, outShape: [...outer, m, n] };
}

/** A strided view of one operand: batch entry (outer, inner) starts at base + outer·outer + inner·inner; rows are ld apart. */
export interface MatmulView {
  readonly base: number;
  readonly outer: number;
  readonly inner: number;
  readonly ld: number;
}

/** vec4 access along the contiguous axis: every offset and the row stride multiples of 4, and the extent too. */
function vecOk(contiguousExtent: number, v: MatmulView): boolean {
  return [contiguousExtent, v.base, v.outer, v.inner, v.ld].every((x) => x % 4 === 0);
}

interface Dispatch {
  readonly backend: Backend;
  readonly a: tf.TensorInfo;
  readonly b: tf.TensorInfo;
  readonly out: tf.TensorInfo;
  readonly bias: tf.TensorInfo | null;
  readonly kScale?: { readonly tensor: tf.TensorInfo; readonly group: number } | null;
  readonly residual?: tf.TensorInfo | null;
  /** The row or column of ones (`MatmulVariant.ones`): to its own output `db`, or kept in the split-K partials. */
  readonly ones?: { readonly side: 'row' | 'col'; readonly db: tf.TensorInfo | 'partials' } | null;
  /** Clip factors formed in the product, and the norms and factors it writes out. */
  readonly clip?: (MatmulClipScale & { readonly norms: tf.TensorInfo; readonly factors: tf.TensorInfo; readonly biasNorms: tf.TensorInfo | null }) | null;
  /** The activation and its pre-activation output H. */
  readonly act?: { readonly key: string; readonly wgsl: string; readonly h: tf.TensorInfo } | null;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly heads: number;
  readonly viewA: MatmulView;
  readonly viewB: MatmulView;
  readonly viewC: MatmulView;
  readonly plan: MatmulPlan;
  /** Elements between split-K partials of one batch entry (0 without split-K). */
  readonly splitStride: number;
}

function dispatchMatmul(d: Dispatch): void {
  const variant: MatmulVariant = {
    tile: d.plan.tile,
    transposeA: d.transposeA,
    transposeB: d.transposeB,
    vecA: vecOk(d.transposeA ? d.m : d.k, d.viewA),
    vecB: vecOk(d.transposeB ? d.k : d.n, d.viewB),
    vecC: vecOk(d.n, d.viewC),
    bias: d.bias !== null,
    kScaleA: d.kScale != null,
    residual: d.residual != null,
    ...(d.ones ? { ones: { side: d.ones.side, to: d.ones.db === 'partials' ? ('partials' as const) : ('out' as const) } } : {}),
    ...(d.act ? { act: { key: d.act.key, wgsl: d.act.wgsl } } : {}),
    ...(d.clip ? { clipA: { capacity: d.clip.capacity, apart: d.clip.apart != null, staged: stagedClipPrologueEnabled() } } : {}),
  };
  const clip = d.clip ?? null;
  const view = (v: MatmulView) => [v.base, v.outer, v.inner, v.ld];
  dispatchDirect({
    key: variantKey(variant),
    code: () => matmulWgsl(variant),
    buffers: [{ tensor: d.out, write: true }, { tensor: d.a }, { tensor: d.b }, ...(d.bias ? [{ tensor: d.bias }] : []), ...(d.kScale ? [{ tensor: d.kScale.tensor }] : []), ...(d.residual ? [{ tensor: d.residual }] : []), ...(d.ones && d.ones.db !== 'partials' ? [{ tensor: d.ones.db, write: true }] : []), ...(d.act ? [{ tensor: d.act.h, write: true }] : []), ...(clip ? [{ tensor: clip.partials }, { tensor: clip.norms, write: true }, { tensor: clip.factors, write: true }] : []), ...(clip?.biasNorms ? [{ tensor: clip.biasNorms, write: true }] : [])],
    uniforms: packUniforms([
      ...[d.m, d.n, d.k, d.plan.kPerSplit, d.plan.splits, d.heads, d.splitStride, d.kScale?.group ?? clip?.group ?? 1, ...view(d.viewA), ...view(d.viewB), ...view(d.viewC)].map((v) => ['u', v] as const),
      ...(clip ? ([['u', clip.partials.shape[0]!], ['u', clip.partials.shape[1]!], ['u', +clip.automatic], ['f', clip.threshold], ['f', clip.gamma]] as const) : []),
      ...(clip?.apart ? ([['u', clip.apart.from], ['f', clip.apart.threshold]] as const) : []),
    ]),
    workgroups: d.plan.workgroups,
  });
}

/**
 * Runs C = op(A)·op(B) (+ bias) with the tiled WGSL matmul (webgpu backend): one dispatch, or with
 * split-K one into partial sums and one that adds them (and the bias).
 */
export function runMatmul(backend: Backend, args: MatmulArgs, shape: MatmulShape, plan?: MatmulPlan): tf.TensorInfo {
  return runProduct(backend, args, shape, null, plan).out;
}

/** act(op(A)·op(B) + bias) and the pre-activation op(A)·op(B) + bias, from one product (`args.act`). */
export function runMatmulAct(backend: Backend, args: MatmulArgs, shape: MatmulShape): [tf.TensorInfo, tf.TensorInfo] {
  if (!args.act || args.residual) throw new Error('runMatmulAct: an activation, and no residual');
  const { out, h } = runProduct(backend, args, shape, null);
  return [out, h!];
}

/**
 * C = op(A)·op(B) and the sums that a row of ones under A (A transposed: Σ_k s_k B[k, :], [N]) or a
 * column of ones beside B (B not transposed: Σ_k s_k A[k, :], [M]) adds (s the K scale, 1 without):
 * a linear layer's weight gradient, aᵀ·dy or dyᵀ·a, and its bias gradient in one product. One batch entry.
 */
export function runMatmulWithColumnSums(backend: Backend, args: MatmulArgs, shape: MatmulShape, side: 'row' | 'col' = 'row'): [tf.TensorInfo, tf.TensorInfo] {
  if (shape.batch !== 1 || (side === 'row' ? !args.transposeA : args.transposeB)) {
    throw new Error(`runMatmulWithColumnSums: one batch entry, and ${side === 'row' ? 'A transposed' : 'B not transposed'}`);
  }
  const { out, db } = runProduct(backend, args, shape, side);
  return [out, db!];
}

/**
 * The plan of `runMatmulWithColumnSums(…, side)` for a product with `args.clipScale`, or null where its
 * tile leaves too little workgroup memory for the factors (the caller takes the two-launch path).
 */
export function planClipScaled(backend: Backend, args: MatmulArgs, shape: MatmulShape, side: 'row' | 'col'): MatmulPlan | null {
  if (!args.clipScale) throw new Error('planClipScaled: args.clipScale is missing');
  const limits = backend.device.limits;
  const rows = side === 'row' ? shape.m + 1 : shape.m;
  const cols = side === 'col' ? shape.n + 1 : shape.n;
  const plan = planMatmul(shape.batch, rows, cols, shape.k, limits.maxStorageBufferBindingSize, args.transposeA, args.transposeB, productVariant(args, shape, side));
  const fits = (p: MatmulPlan) => clipFitsWorkgroup(p.tile, args.clipScale!.capacity, limits.maxComputeWorkgroupStorageSize, args.clipScale!.apart != null);
  if (fits(plan)) return plan;
  // a bk-16 tile of 32 KB (the heuristic's or the tuning's pick) leaves no room for the factors: its bk-8 twin does
  const twin = BK8_TWIN[plan.tileName];
  if (!twin) return null;
  const p = planOnTile(twin, plan.splits, shape.batch, rows, cols, shape.k, limits.maxStorageBufferBindingSize);
  return fits(p) ? p : null;
}

/**
 * `runMatmulWithColumnSums` scaled by clip factors it forms (`args.clipScale`, `plan` from
 * `planClipScaled`): also the norms and factors [B], and with `clipScale.apart` the bias's norms [B].
 */
export function runClipScaledWithColumnSums(backend: Backend, args: MatmulArgs, shape: MatmulShape, side: 'row' | 'col', plan: MatmulPlan): { out: tf.TensorInfo; db: tf.TensorInfo; norms: tf.TensorInfo; factors: tf.TensorInfo; biasNorms: tf.TensorInfo | null } {
  if (!args.clipScale || args.kScale) throw new Error('runClipScaledWithColumnSums: args.clipScale, and no kScale');
  const { out, db, norms, factors, biasNorms } = runProduct(backend, args, shape, side, plan);
  return { out, db: db!, norms: norms!, factors: factors!, biasNorms: biasNorms ?? null };
}

/**
 * The variant a Book-Keeping product is tuned as (`MatmulProductVariant`): Σ_i c_i x_iᵀ y_i over B·T
 * rows (A transposed, one batch entry) scaled by given factors or by factors it forms; none for others.
 */
function productVariant(args: MatmulArgs, shape: MatmulShape, ones: 'row' | 'col' | null): MatmulProductVariant | undefined {
  if (shape.batch !== 1 || !args.transposeA || args.transposeB) return undefined;
  const clip = args.clipScale;
  if (clip) return ones ? { kind: 'clip', group: clip.group, ones, width: clip.partials.shape[1]!, apartFrom: clip.apart?.from ?? 0 } : undefined;
  return args.kScale ? { kind: 'k-scale', group: args.kScale.group, ones } : undefined;
}

type Product = { out: tf.TensorInfo; db?: tf.TensorInfo; h?: tf.TensorInfo; norms?: tf.TensorInfo; factors?: tf.TensorInfo; biasNorms?: tf.TensorInfo | null };

function runProduct(backend: Backend, args: MatmulArgs, shape: MatmulShape, ones: 'row' | 'col' | null, given?: MatmulPlan): Product {
  const { m, n, k, batch } = shape;
  // the row (column) of ones is one more output row (column) for the grid and the split-K partials
  const rows = ones === 'row' ? m + 1 : m;
  const cols = ones === 'col' ? n + 1 : n;
  const plan = given ?? planMatmul(batch, rows, cols, k, backend.device.limits.maxStorageBufferBindingSize, args.transposeA, args.transposeB, productVariant(args, shape, ones));
  const bias = args.bias ?? null;
  const residual = args.residual ?? null;
  const split = plan.splits > 1;
  const db = ones ? backend.makeTensorInfo([ones === 'row' ? n : m], 'float32') : undefined;
  const act = args.act ?? null;
  const h = act ? backend.makeTensorInfo(shape.outShape, 'float32') : undefined;
  const out = backend.makeTensorInfo(split ? [batch * plan.splits, rows, cols] : shape.outShape, 'float32');
  const clipScale = args.clipScale ?? null;
  const samples = clipScale ? clipScale.partials.shape[0]! : 0;
  const clip = clipScale
    ? { ...clipScale, norms: backend.makeTensorInfo([samples], 'float32'), factors: backend.makeTensorInfo([samples], 'float32'), biasNorms: clipScale.apart ? backend.makeTensorInfo([samples], 'float32') : null }
    : null;
  dispatchMatmul({
    backend,
    a: args.a,
    b: args.b,
    out,
    bias: split ? null : bias,
    residual: split ? null : residual,
    ones: ones ? { side: ones, db: split ? 'partials' : db! } : null,
    act: act && !split ? { ...act, h: h! } : null,
    kScale: args.kScale ?? null,
    clip,
    transposeA: args.transposeA,
    transposeB: args.transposeB,
    m,
    n,
    k,
    heads: 1,
    viewA: { base: 0, outer: shape.strideA, inner: 0, ld: args.transposeA ? m : k },
    viewB: { base: 0, outer: shape.strideB, inner: 0, ld: args.transposeB ? k : n },
    // split-K partials: [batch, splits, rows, cols]
    viewC: { base: 0, outer: rows * cols * plan.splits, inner: 0, ld: split ? cols : n },
    plan,
    splitStride: split ? rows * cols : 0,
  });
  const clipOut = clip ? { norms: clip.norms, factors: clip.factors, biasNorms: clip.biasNorms } : {};
  if (!split) return { out, db, h, ...clipOut };
  const sum = backend.makeTensorInfo(shape.outShape, 'float32');
  const size = rows * cols;
  const vec = ones !== 'col' && size % 4 === 0 && ((bias === null && ones === null) || n % 4 === 0);
  const per = vec ? size / 4 : size;
  const total = batch * per;
  // with a row of ones, the elements past M·N of each sum are DB's; with a column, every (N + 1)th
  const boundary = ones === 'row' ? (vec ? (m * n) / 4 : m * n) : per;
  dispatchDirect({
    key: `clipwiseSplitKSum_${vec}_${bias !== null}_${residual !== null}_${ones ?? '-'}_${act?.key ?? '-'}`,
    code: () => splitSumWgsl(vec, bias !== null, residual !== null, ones, act?.wgsl ?? null),
    buffers: [{ tensor: sum, write: true }, { tensor: out }, ...(bias ? [{ tensor: bias }] : []), ...(residual ? [{ tensor: residual }] : []), ...(db ? [{ tensor: db, write: true }] : []), ...(h ? [{ tensor: h, write: true }] : [])],
    uniforms: packUniforms([per, plan.splits, total, vec ? n / 4 : n, boundary].map((v) => ['u', v] as const)),
    workgroups: [Math.min(Math.ceil(total / 256), 65535), Math.ceil(total / 256 / 65535), 1],
  });
  backend.disposeData(out.dataId);
  return { out: sum, db, h, ...clipOut };
}

/** A product over strided views (`runStridedMatmul`): batch = outer × heads entries. */
export interface StridedMatmul {
  readonly a: tf.TensorInfo;
  readonly b: tf.TensorInfo;
  /** Written in place (the caller owns it); every element the views cover is overwritten. */
  readonly out: tf.TensorInfo;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly outer: number;
  readonly heads: number;
  readonly viewA: MatmulView;
  readonly viewB: MatmulView;
  readonly viewC: MatmulView;
}

/**
 * C[z] = op(A[z])·op(B[z]) for z = (outer, head) over strided views of whole tensors, written into
 * `out` in place: attention reads each head's q, k, v inside [B, T, 3·H·hd] and writes its context
 * inside [B, T, H·hd], with no split, transpose or concat kernels. webgpu only; no split-K.
 */
export function runStridedMatmul(s: StridedMatmul): void {
  const backend = tf.backend() as unknown as Backend;
  const batch = s.outer * s.heads;
  // no room for split-K partials: the output is written in place, one pass
  dispatchMatmul({ ...s, backend, bias: null, plan: planMatmul(batch, s.m, s.n, s.k, 0, s.transposeA, s.transposeB), splitStride: 0 });
}
