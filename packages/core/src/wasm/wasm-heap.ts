import type * as tf from '@tensorflow/tfjs-core';

/** What of TF.js's `BackendWasm` core's wasm kernels use (all public methods of the class). */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /**
   * A view of the tensor's values in the wasm heap, no copy, typed by its dtype. Take views after
   * any `makeOutput`: growing the heap detaches the views taken before.
   */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): void;
}

/** The heap view of a float32 tensor. */
export function floatsOf(backend: WasmHeapBackend, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}
