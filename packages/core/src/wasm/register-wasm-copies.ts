import * as tf from '@tensorflow/tfjs-core';
import { overrideKernel, type KernelArgs } from '../backend/override-kernel';
import { fusedKernelsEnabled } from '../fused/fused-kernels';
import type { WasmHeapBackend } from './wasm-heap';

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** Copies `n` elements (a loop below ~16, where a subarray costs more than the copy). */
function copyRun(src: HeapArray, from: number, dst: HeapArray, to: number, n: number): void {
  if (n < 16) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

/**
 * Copies the box `begin`..`begin + size` of `src` (shape `shape`) into `dst` at `to`, row-major:
 * the trailing axes taken whole merge into one contiguous run per step of the others.
 */
export function copyBox(src: HeapArray, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: HeapArray, to = 0): void {
  const rank = shape.length;
  if (size.some((s) => s === 0)) return;
  const strides = tf.util.computeStrides([...shape]);
  let k = rank - 1; // the last axis not taken whole
  while (k >= 0 && begin[k] === 0 && size[k] === shape[k]) k--;
  if (k < 0) {
    copyRun(src, 0, dst, to, src.length);
    return;
  }
  const run = size[k]! * (k === rank - 1 ? 1 : strides[k]!);
  const outer = size.slice(0, k);
  const count = outer.reduce((p, s) => p * s, 1);
  const idx = new Array<number>(k).fill(0);
  let from = begin.reduce((p, b, i) => p + b * (i === rank - 1 ? 1 : strides[i]!), 0);
  for (let c = 0; c < count; c++) {
    copyRun(src, from, dst, to, run);
    to += run;
    // odometer over the outer axes, moving `from` by their strides
    for (let a = k - 1; a >= 0; a--) {
      from += strides[a]!;
      if (++idx[a]! < outer[a]!) break;
      from -= idx[a]! * strides[a]!;
      idx[a] = 0;
    }
  }
}

/**
 * TF.js's wasm `Slice` (and `SplitV`, which calls it) reads its input with `readSync`, a copy of the
 * whole tensor out of the heap, for every slice: 57 ms to take a quarter of a [5632, 4096] tensor,
 * 171 ms for a three-way split. Here the box is copied from a view of the heap.
 */
function slice(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x']!;
  const backend = args.backend as WasmHeapBackend;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs['begin'] as number[], args.attrs['size'] as number[]);
  const out = backend.makeOutput(size, x.dtype);
  // views after makeOutput: growing the heap detaches older ones
  copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

function splitV(args: KernelArgs): tf.TensorInfo[] {
  const x = args.inputs['x']!;
  const backend = args.backend as WasmHeapBackend;
  const axis = tf.util.parseAxisParam(args.attrs['axis'] as number, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, args.attrs['numOrSizeSplits'] as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const out = backend.makeOutput(size, x.dtype);
    copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
    begin[axis]! += s;
    return out;
  });
}

/**
 * `GatherV2` by copies from heap views: TF.js's wasm kernel takes ~90 ns an element when each
 * gathered slice is one element (a [32, 176, 4096] gather of 176 ids a row: 90 ms), and its
 * embedding lookups run at ~30M floats/s. Same semantics, including `batchDims` and the error for an
 * index out of range.
 */
function gatherV2(args: KernelArgs): tf.TensorInfo {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const backend = args.backend as WasmHeapBackend;
  const axis = tf.util.parseAxisParam(args.attrs['axis'] as number, x.shape)[0]!;
  const batchDims = (args.attrs['batchDims'] as number | undefined) ?? 0;
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as unknown as tf.Tensor, indices as unknown as tf.Tensor, axis, batchDims);
  const out = backend.makeOutput(info.outputShape, x.dtype);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(indices);
  const ys = backend.typedArrayFromHeap(out);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const perBatch = ids.length / Math.max(batchSize, 1);
  let to = 0;
  for (let b = 0; b < batchSize; b++) {
    const idRow = b * perBatch;
    for (let o = 0; o < outerSize; o++) {
      const base = (b * outerSize + o) * dimSize;
      for (let j = 0; j < perBatch; j++) {
        const id = ids[idRow + j]!;
        if (!(id >= 0 && id < dimSize)) throw new Error(`GatherV2: the index value ${id} is not in [0, ${dimSize - 1}]`);
        if (sliceSize === 1) ys[to] = xs[base + id]!;
        else copyRun(xs, (base + id) * sliceSize, ys, to, sliceSize);
        to += sliceSize;
      }
    }
  }
  return out;
}

/**
 * TF.js 4.22's wasm `GatherV2` is wrong with `batchDims` > 0 and more than one batch: it gathers
 * [2, 3, 50] by ids [2, 4] on axis 2 (batchDims 1) from the wrong rows of the second batch. Ours
 * runs for those whatever the fused-kernels switch says.
 */
const tfjsGatherIsWrong = (args: KernelArgs): boolean => ((args.attrs['batchDims'] as number | undefined) ?? 0) > 0;

/**
 * Puts heap-view copies in front of TF.js's wasm `Slice`, `SplitV` and `GatherV2` (string tensors,
 * and everything while fused kernels are off, run TF.js's own, except the gathers it gets wrong).
 * Idempotent; call once the wasm backend is ready (`setupBackend('wasm')` does).
 */
export function installWasmCopyKernels(): boolean {
  const ours: Record<string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> = { Slice: slice, SplitV: splitV, GatherV2: gatherV2 };
  return Object.entries(ours).every(([name, f]) =>
    overrideKernel(name, 'wasm', (original) => (args) => {
      const x = args.inputs['x'];
      const mustRun = name === 'GatherV2' && tfjsGatherIsWrong(args);
      return (fusedKernelsEnabled() || mustRun) && x && x.dtype !== 'string' ? f(args) : original(args);
    }),
  );
}
