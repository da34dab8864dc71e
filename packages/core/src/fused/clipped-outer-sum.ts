import * as tf from '@tensorflow/tfjs-core';
import { matmulShape, runMatmul, runMatmulWithColumnSums } from '../webgpu/matmul/matmul-kernel';
import { columnSum } from './column-sum';
import { registerWebgpuKernel, rowsView } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';
import { envSwitch } from '../env-switch';

const KERNEL = 'ClipwiseClippedOuterSum';

/** Whether the tiled matmul takes x, y [B, T, ·] as [B·T, ·] rows (every binding within the device's limit); else the TF.js ops. */
const productFits = (x: tf.Tensor3D, y: tf.Tensor3D) => matmulShape({ a: rowsView(x), b: rowsView(y), transposeA: true, transposeB: false }) !== null;
const WITH_BIAS = 'ClipwiseClippedOuterSumBias';

/**
 * The product scales x's K axis as it stages x (a division a staged load, which costs an LM head's
 * 50,257-wide dy about 5% of the product's rate). Where x is at least NARROW_RATIO× wider than y and
 * has at least NARROW_MIN_ELEMENTS, y is scaled instead, in a multiply of its own (2,048 × 768 for
 * GPT-2 small's head: a few µs), and the product runs plain. On by default: in GPT-2 small's A/B on an
 * H100 (B16×T128) the device's busy time a step fell by 0.47–0.57 ms in all-layer, layer-wise and
 * param-wise (`CLIPWISE_SCALE_NARROW=off`, `setScaleNarrowOperand(false)`: the product scales x).
 */
const scaleNarrow = envSwitch('CLIPWISE_SCALE_NARROW', true);
const NARROW_RATIO = 8;
const NARROW_MIN_ELEMENTS = 1 << 20;

/** Whether `clippedOuterSum` on webgpu scales the narrow operand in a launch of its own where the K-scaled one is far wider (`CLIPWISE_SCALE_NARROW`); null: back to the variable. */
export function setScaleNarrowOperand(on: boolean | null): void {
  scaleNarrow.set(on);
}
/** Whether the narrow operand's scaling is on (`setScaleNarrowOperand`). */
export const scaleNarrowOperandEnabled = (): boolean => scaleNarrow.enabled();

/**
 * Σ_b c_b x_bᵀ y_b ([m, n]) for x [B, T, m] and y [B, T, n]: Book-Keeping's clipped weight gradient of
 * a linear layer (x the input, y the output gradient, c the clip factors), or, with `c` null, the plain
 * sum. On webgpu one tiled matmul over the B·T rows with c applied as A is staged: no scaled copy of x
 * (a multiply launch and a write of x per record). Elsewhere the plain ops.
 *
 * @example
 * const w = clippedOuterSum(a, dy, c); // [d, p]: Σ_i c_i a_iᵀ dy_i
 */
export function clippedOuterSum(x: tf.Tensor3D, y: tf.Tensor3D, c: tf.Tensor1D | null): tf.Tensor2D {
  const [b, t, m] = x.shape;
  const n = y.shape[2];
  if (y.shape[0] !== b || y.shape[1] !== t) throw new Error(`clippedOuterSum: x [${x.shape}] and y [${y.shape}] must share [B, T]`);
  if (c && (c.rank !== 1 || c.size !== b)) throw new Error(`clippedOuterSum: c [${c.shape}] must be [${b}]`);
  // the plain sum (c null) too: the product the matMul below would run, without its reshapes
  if (fusedOnDevice() && b * t > 0 && m >= 16 && n >= 16 && x.dtype === 'float32' && y.dtype === 'float32' && (!c || c.dtype === 'float32') && productFits(x, y)) {
    const product = (xs: tf.Tensor3D, ys: tf.Tensor3D, cs: tf.Tensor1D | null) => tf.engine().runKernel(KERNEL, { x: xs, y: ys, ...(cs ? { c: cs } : {}) }, { t } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
    if (c && m >= NARROW_RATIO * n && b * t * m >= NARROW_MIN_ELEMENTS && scaleNarrow.enabled()) return tf.tidy(() => product(x, bySample(y, c), null));
    return product(x, y, c);
  }
  return tf.tidy(() => {
    // c scales the narrower operand (an LM head's dy is vocabulary-wide)
    const cx = c && m <= n ? bySample(x, c) : x;
    const cy = c && m > n ? bySample(y, c) : y;
    return tf.matMul(tf.reshape(cx, [b * t, m]), tf.reshape(cy, [b * t, n]), true, false) as tf.Tensor2D;
  });
}

/** v [B, T, ·] with sample i's rows times c_i. */
const bySample = (v: tf.Tensor3D, c: tf.Tensor1D): tf.Tensor3D => tf.mul(v, tf.reshape(c, [c.size, 1, 1]));

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { x, y, c } = inputs as Record<string, tf.TensorInfo | undefined>;
  const args = { a: rowsView(x!), b: rowsView(y!), transposeA: true, transposeB: false, kScale: c ? { tensor: c, group: (attrs as { t: number }).t } : null };
  const shape = matmulShape(args);
  if (!shape) throw new Error(`clippedOuterSum: the tiled matmul does not take x [${x!.shape}], y [${y!.shape}]`);
  return runMatmul(backend as unknown as Parameters<typeof runMatmul>[0], args, shape);
});

/**
 * `clippedOuterSum(x, y, c)` and a bias gradient, Σ_b c_b Σ_t y_bt ([n]), or with `biasOf: 'x'`
 * Σ_b c_b Σ_t x_bt ([m]): a linear layer's (clipped) weight and bias gradients (x the input and y the
 * output gradient for a weight stored [in, out]; x = dy and y = a for one stored [out, in]), from one
 * product on webgpu: the matmul stages a row of ones under xᵀ (or a column beside y), so the bias sum
 * is the product's extra output row (column), where a column sum read dy again. `c` null: the plain
 * sums (the non-private step). Elsewhere `clippedOuterSum` and `columnSum`.
 *
 * @example
 * const { weight, bias } = clippedOuterSumWithBias(a, dy, c);                  // [d, p], [p]
 * const t = clippedOuterSumWithBias(dy, a, c, { biasOf: 'x' });                // [p, d], [p]
 */
export function clippedOuterSumWithBias(x: tf.Tensor3D, y: tf.Tensor3D, c: tf.Tensor1D | null, options: { readonly biasOf?: 'x' | 'y' } = {}): { weight: tf.Tensor2D; bias: tf.Tensor1D } {
  const [b, t, m] = x.shape;
  const n = y.shape[2];
  const biasOf = options.biasOf ?? 'y';
  if (y.shape[0] !== b || y.shape[1] !== t) throw new Error(`clippedOuterSumWithBias: x [${x.shape}] and y [${y.shape}] must share [B, T]`);
  if (c && (c.rank !== 1 || c.size !== b)) throw new Error(`clippedOuterSumWithBias: c [${c.shape}] must be [${b}]`);
  if (fusedOnDevice() && b * t > 0 && m > 0 && n > 0 && x.dtype === 'float32' && y.dtype === 'float32' && (!c || c.dtype === 'float32') && productFits(x, y)) {
    const inputs: tf.NamedTensorMap = { x, y, ...(c ? { c } : {}) };
    const [weight, bias] = tf.engine().runKernel(WITH_BIAS, inputs, { t, biasOf } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { weight: weight as tf.Tensor2D, bias: bias as tf.Tensor1D };
  }
  return { weight: clippedOuterSum(x, y, c), bias: columnSum(biasOf === 'y' ? y : x, c === null ? {} : { weights: c }) as tf.Tensor1D };
}

registerWebgpuKernel(WITH_BIAS, ({ inputs, backend, attrs }) => {
  const { x, y, c } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { t, biasOf } = attrs as { t: number; biasOf: 'x' | 'y' };
  const args = { a: rowsView(x!), b: rowsView(y!), transposeA: true, transposeB: false, kScale: c ? { tensor: c, group: t } : null };
  const shape = matmulShape(args);
  if (!shape) throw new Error(`clippedOuterSumWithBias: the tiled matmul does not take x [${x!.shape}], y [${y!.shape}]`);
  // y's column sums: a row of ones under xᵀ; x's: a column of ones beside y
  return runMatmulWithColumnSums(backend as unknown as Parameters<typeof runMatmul>[0], args, shape, biasOf === 'y' ? 'row' : 'col') as unknown as tf.TensorInfo;
});
