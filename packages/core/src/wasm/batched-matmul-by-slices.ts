import type * as tf from '@tensorflow/tfjs-core';
import { floatsOf, type WasmHeapBackend } from './wasm-heap';

/** A 2-D untransposed product on the backend (TF.js's own kernel, which hands it to XNNPACK). */
export type Matmul2d = (a: tf.TensorInfo, b: tf.TensorInfo) => tf.TensorInfo;

const batchOf = (shape: readonly number[]) => shape.slice(0, -2).reduce((p, s) => p * s, 1);

/**
 * Whether {@link batchedMatmulBySlices} serves these shapes: a real batch (> 1 product), the same
 * batch on both sides or one side shared (batch 1), and products big enough that one XNNPACK call
 * each beats TF.js's batched loop (~2 GFLOP/s; a call costs ~0.05–0.1 ms on top of its flops).
 */
export function sliceableBatch(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): boolean {
  const batchA = batchOf(aShape);
  const batchB = batchOf(bShape);
  if (Math.max(batchA, batchB) < 2) return false;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return false;
  if (batchA > 1 && batchB > 1 && aShape.slice(0, -2).join() !== bShape.slice(0, -2).join()) return false;
  const m = aShape.at(transposeA ? -1 : -2)!;
  const k = aShape.at(transposeA ? -2 : -1)!;
  const n = bShape.at(transposeB ? -2 : -1)!;
  return 2 * m * n * k >= 200_000;
}

/** Copies an r × c block at `from` of `src` into `dst` (r × c), transposed (so `dst` is c × r) when asked. */
function copyBlock(src: Float32Array, from: number, rows: number, cols: number, transpose: boolean, dst: Float32Array): void {
  if (!transpose) {
    dst.set(src.subarray(from, from + rows * cols));
    return;
  }
  for (let i = 0; i < rows; i++) {
    const row = from + i * cols;
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[row + j]!;
  }
}

/**
 * A batched product as one 2-D XNNPACK product per batch element. TF.js's wasm `BatchMatMul` runs
 * batches (and transposed operands) in a plain loop at ~1–2.4 GFLOP/s, its 2-D untransposed path
 * at 20–40 GFLOP/s on one core; per-sample gradients, ghost Gram matrices and attention are all
 * batches of such products. Each slice is copied out of the wasm heap into a fresh tensor (a fresh
 * id each time: TF.js caches XNNPACK operators by the id of `b`, with its packed weights), transposed
 * in the copy where asked; the slice products are copied into the batched output.
 *
 * Call only where {@link sliceableBatch} holds. The output has the batch shape of the larger side.
 */
export function batchedMatmulBySlices(
  a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, backend: WasmHeapBackend, matmul2d: Matmul2d,
): tf.TensorInfo {
  const batchA = batchOf(a.shape);
  const batchB = batchOf(b.shape);
  const batch = Math.max(batchA, batchB);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const outer = (batchA >= batchB ? a : b).shape.slice(0, -2);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  let sharedB: tf.TensorInfo | undefined;
  for (let g = 0; g < batch; g++) {
    const as = backend.makeOutput([m, k], 'float32');
    copyBlock(floatsOf(backend, a), (batchA > 1 ? g : 0) * ar * ac, ar, ac, transposeA, floatsOf(backend, as));
    let bs = sharedB;
    if (!bs) {
      bs = backend.makeOutput([k, n], 'float32');
      copyBlock(floatsOf(backend, b), (batchB > 1 ? g : 0) * br * bc, br, bc, transposeB, floatsOf(backend, bs));
      if (batchB === 1) sharedB = bs; // one b for every slice: XNNPACK packs it once
    }
    const prod = matmul2d(as, bs);
    // views are taken after every allocation: a growing wasm memory detaches older ones
    floatsOf(backend, out).set(floatsOf(backend, prod), g * m * n);
    backend.disposeData(prod.dataId);
    backend.disposeData(as.dataId);
    if (bs !== sharedB) backend.disposeData(bs.dataId);
  }
  if (sharedB) backend.disposeData(sharedB.dataId);
  return out;
}
