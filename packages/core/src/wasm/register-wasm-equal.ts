import * as tf from '@tensorflow/tfjs-core';
import { overrideKernel, type KernelArgs } from '../backend/override-kernel';
import { fusedKernelsEnabled } from '../fused/fused-kernels';
import type { WasmHeapBackend } from './wasm-heap';

/** Element strides of `shape` read as broadcast to `outShape` (0 along broadcast axes). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const pad = outShape.length - shape.length;
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1) strides[pad + i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * out[i] = a[i] == b[i] with NumPy broadcasting, an odometer over the output's outer axes and a loop
 * over its last one.
 */
export function broadcastEqual(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[], outShape: readonly number[], out: Uint8Array): void {
  const rank = outShape.length;
  if (out.length === 0) return;
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  const last = outShape[rank - 1] ?? 1;
  const al = as[rank - 1] ?? 0;
  const bl = bs[rank - 1] ?? 0;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let ao = 0;
  let bo = 0;
  for (let to = 0; to < out.length; to += last) {
    for (let j = 0; j < last; j++) out[to + j] = a[ao + j * al] === b[bo + j * bl] ? 1 : 0;
    for (let d = rank - 2; d >= 0; d--) {
      ao += as[d]!;
      bo += bs[d]!;
      if (++idx[d]! < outShape[d]!) break;
      ao -= idx[d]! * as[d]!;
      bo -= idx[d]! * bs[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * TF.js's wasm `Equal` with broadcasting takes ~90 ns an element (the same-id mask of an embedding's
 * ghost norm, [32, 176, 1] == [32, 1, 176]: 91 ms); same-shape inputs are fast and stay with it.
 * Idempotent; `setupBackend('wasm')` calls it.
 */
export function installWasmEqualKernel(): boolean {
  return overrideKernel('Equal', 'wasm', (original) => (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!fusedKernelsEnabled() || a.dtype === 'string' || a.shape.join() === b.shape.join()) return original(args);
    const backend = args.backend as WasmHeapBackend;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(shape, 'bool');
    broadcastEqual(backend.typedArrayFromHeap(a), a.shape, backend.typedArrayFromHeap(b), b.shape, shape, backend.typedArrayFromHeap(out) as Uint8Array);
    return out;
  });
}
