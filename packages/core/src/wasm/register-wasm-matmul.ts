import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelsEnabled } from '../fused/fused-kernels';
import { overrideKernel, tfjsKernel, type KernelArgs } from '../backend/override-kernel';
import { batchedMatmulBySlices, sliceableBatch } from './batched-matmul-by-slices';
import type { WasmHeapBackend } from './wasm-heap';

type KernelFunc = (args: KernelArgs) => tf.TensorInfo;
interface WasmBackendLike {
  disposeData(dataId: object): void;
}

/** The kernel registered now (ours where we put one in front). */
function kernelOf(name: string): KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`installWasmMatmulKernels: TF.js's wasm backend has no ${name} kernel`);
  return k.kernelFunc as unknown as KernelFunc;
}

/** TF.js's own matmul kernel. */
const tfjsMatmul = (name: string) => tfjsKernel(name, 'wasm') as KernelFunc;

const batchOf = (shape: readonly number[]) => shape.slice(0, -2).reduce((p, s) => p * s, 1);

/**
 * How TF.js's wasm `BatchMatMul` / `_FusedMatMul` run a product: only a 2-D, untransposed one goes to
 * XNNPACK (~20–40 GFLOP/s on one core); a transposed operand or a batch of products runs a plain
 * loop (0.2–2.4 GFLOP/s; measured in packages/core/README.md, "On wasm"). This rewrites each product
 * into that fast form where the maths allows: a batch of `a`s against one `b` folds into the rows of
 * one 2-D product, and a transposed operand is transposed in memory (a copy, O(size), cheap next to
 * the O(M·N·K) product); any other batch of products big enough runs one 2-D product per element
 * (`batchedMatmulBySlices`). Returns the 2-D-or-batched NN inputs and how to shape the result back.
 */
export function planWasmMatmul(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean, epilogueRank = 1): { foldRows: boolean; transposeA: boolean; transposeB: boolean } | null {
  // a bias or PReLU weight of rank > 1 broadcasts against the batched output shape: no folding then
  const foldRows = batchOf(aShape) > 1 && batchOf(bShape) === 1 && !transposeA && epilogueRank <= 1;
  if (!transposeA && !transposeB && !foldRows) return null; // already as fast as TF.js makes it
  return { foldRows, transposeA, transposeB };
}

/**
 * Whether a 2-D product with a transposed operand is cheaper as `(op(b)ᵀ op(a)ᵀ)ᵀ`: the in-memory
 * transposes then fall on the other operand and the output. E.g. the tied head's weight gradient
 * `xᵀ dy` with x [5120, 4096], dy [5120, 128] copies 1.2M floats instead of 21M.
 */
export function swapOperands(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): boolean {
  if (!transposeA && !transposeB) return false;
  const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
  const m = aShape.at(transposeA ? -1 : -2)!;
  const n = bShape.at(transposeB ? -2 : -1)!;
  const asIs = (transposeA ? size(aShape) : 0) + (transposeB ? size(bShape) : 0);
  const swapped = (transposeB ? 0 : size(bShape)) + (transposeA ? 0 : size(aShape)) + m * n;
  return swapped < asIs;
}

/** Which way {@link installWasmMatmulKernels} runs a product (for tests and profiles). */
export type WasmMatmulPath = 'tfjs' | 'fold' | 'dots' | 'slices' | 'swap' | 'transpose';

/** The path of a product; `plainProduct`: no bias or activation (only those may be sliced or swapped). */
export function wasmMatmulPath(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean, plainProduct = true, epilogueRank = 0): WasmMatmulPath {
  const plan = planWasmMatmul(aShape, bShape, transposeA, transposeB, epilogueRank);
  if (plan?.foldRows) return 'fold';
  const m = aShape.at(transposeA ? -1 : -2);
  const n = bShape.at(transposeB ? -2 : -1);
  // per-sample dot products ([B, 1, K]·[B, 1, K]ᵀ, e.g. squared norms of per-sample gradients): a
  // multiply and a row sum (SIMD) instead of B matrix products of one entry each
  if (plainProduct && m === 1 && n === 1 && batchOf(aShape) > 1 && aShape.slice(0, -2).join() === bShape.slice(0, -2).join()) return 'dots';
  if (plainProduct && sliceableBatch(aShape, bShape, transposeA, transposeB)) return 'slices';
  if (!plan) return 'tfjs';
  if (plainProduct && batchOf(aShape) === 1 && batchOf(bShape) === 1 && swapOperands(aShape, bShape, transposeA, transposeB)) return 'swap';
  return 'transpose';
}

/** [..., 1, K]·[..., K, 1] (either operand's K contiguous whatever its transpose flag) as a multiply and a row sum. */
function batchedDots(a: tf.TensorInfo, b: tf.TensorInfo, backend: WasmBackendLike): tf.TensorInfo {
  const g = batchOf(a.shape);
  const k = a.shape.at(-1)! * a.shape.at(-2)!;
  const a2 = reshape(a, [g, k], backend);
  const b2 = reshape(b, [g, k], backend);
  const prod = kernelOf('Multiply')({ inputs: { a: a2, b: b2 }, backend, attrs: {} });
  const sums = kernelOf('Sum')({ inputs: { x: prod }, backend, attrs: { axis: [1], keepDims: false } });
  const out = reshape(sums, [...a.shape.slice(0, -2), 1, 1], backend);
  for (const t of [a2, b2, prod, sums]) backend.disposeData(t.dataId);
  return out;
}

/** Transposes the last two dimensions of `x` in memory (TF.js's wasm Transpose kernel). */
function transposeLast2(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return kernelOf('Transpose')({ inputs: { x }, backend, attrs: { perm } });
}

function reshape(x: tf.TensorInfo, shape: number[], backend: unknown): tf.TensorInfo {
  return kernelOf('Reshape')({ inputs: { x }, backend, attrs: { shape } });
}

function runFast(name: string, args: KernelArgs): tf.TensorInfo {
  const original = tfjsMatmul(name);
  if (!fusedKernelsEnabled()) return original(args); // `--fused off`: TF.js's own kernels, the "before"
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined> & { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const epilogueRank = Math.max(bias?.shape.length ?? 0, preluActivationWeights?.shape.length ?? 0);
  const { activation } = args.attrs as { activation?: string };
  const plainProduct = !bias && !preluActivationWeights && (!activation || activation === 'linear');
  const path = wasmMatmulPath(a.shape, b.shape, transposeA, transposeB, plainProduct, epilogueRank);
  if (path === 'tfjs') return original(args);
  if (path === 'dots') return batchedDots(a, b, args.backend as WasmBackendLike);
  if (path === 'slices') {
    const batchMatMul = tfjsMatmul('BatchMatMul');
    const matmul2d = (x: tf.TensorInfo, y: tf.TensorInfo) => batchMatMul({ inputs: { a: x, b: y }, backend: args.backend, attrs: { transposeA: false, transposeB: false } });
    return batchedMatmulBySlices(a, b, transposeA, transposeB, args.backend as WasmHeapBackend, matmul2d);
  }
  const plan = planWasmMatmul(a.shape, b.shape, transposeA, transposeB, epilogueRank)!;
  const backend = args.backend as WasmBackendLike;
  if (path === 'swap') {
    const outT = runFast(name, { ...args, inputs: { a: b, b: a }, attrs: { ...args.attrs, transposeA: !transposeB, transposeB: !transposeA } });
    const out = transposeLast2(outT, backend);
    backend.disposeData(outT.dataId);
    return out;
  }
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => (temps.push(t), t);
  let aa = plan.transposeA ? keep(transposeLast2(a, backend)) : a;
  const bb = plan.transposeB ? keep(transposeLast2(b, backend)) : b;
  const outRows = aa.shape.slice(0, -1); // [...batchA, M]
  if (plan.foldRows) aa = keep(reshape(aa, [outRows.reduce((p, s) => p * s, 1), aa.shape.at(-1)!], backend));
  const bb2 = plan.foldRows && bb.shape.length > 2 ? keep(reshape(bb, bb.shape.slice(-2), backend)) : bb;
  let out = original({ ...args, inputs: { ...args.inputs, a: aa, b: bb2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  if (plan.foldRows) {
    const flat = out;
    out = reshape(flat, [...outRows, flat.shape.at(-1)!], backend);
    backend.disposeData(flat.dataId);
  }
  for (const t of temps) backend.disposeData(t.dataId);
  return out;
}

/**
 * Puts the rewrite of {@link planWasmMatmul} in front of TF.js's wasm `BatchMatMul` and
 * `_FusedMatMul`; TF.js's kernels still do every product, so values match them up to summation
 * order. While fused kernels are off (`setFusedKernels(false)`), TF.js's kernels run as they are. Idempotent; call once the wasm backend is ready (`setupBackend('wasm')` does).
 */
export function installWasmMatmulKernels(): boolean {
  return ['BatchMatMul', '_FusedMatMul'].every((name) => overrideKernel(name, 'wasm', () => (args) => runFast(name, args)));
}
