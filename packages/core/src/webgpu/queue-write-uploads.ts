import * as tf from '@tensorflow/tfjs-core';

interface TensorData {
  values: ArrayLike<number> | null;
  dtype: tf.DataType;
  shape: number[];
  resource: unknown;
}

interface WebgpuBackendInternals {
  tensorMap: { get(dataId: unknown): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  queue: GPUQueue;
  uploadToGPU(dataId: unknown): void;
  /** The backend's own upload, kept while ours is installed. */
  clipwiseStagingUpload?: (dataId: unknown) => void;
}

/**
 * Makes TF.js's webgpu backend upload CPU values (every scalar a kernel is called with, `tf.ones`,
 * input batches) with `queue.writeBuffer` instead of a new mapped-at-creation staging buffer, a copy
 * command and a destroy per upload. Measured on an H200 through Dawn (`bench/dawn-dispatch.ts`):
 * `tf.add(y, 1)` cost 321 µs per call against 74 µs for `tf.add(y, y)`; the staging buffer was the
 * difference. Returns false (and changes nothing) on other backends or when the backend's internals
 * are not the tfjs-backend-webgpu 4.x ones this relies on.
 *
 * Ordering is unchanged: a pooled buffer is never referenced by unsubmitted commands (the backend
 * defers releasing those until it submits), and `writeBuffer` runs on the queue after every earlier
 * submission and before the next one, which is all a freshly acquired buffer needs.
 *
 * `useQueueWriteUploads(false)` puts the backend's own upload back (for before/after benchmarks).
 *
 * @example
 * await setupBackend('webgpu'); // installs it
 * useQueueWriteUploads(); // true: already installed, or installed now
 */
export function useQueueWriteUploads(on = true): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  const backend = tf.backend() as unknown as WebgpuBackendInternals;
  if (!on) {
    if (backend.clipwiseStagingUpload) backend.uploadToGPU = backend.clipwiseStagingUpload;
    delete backend.clipwiseStagingUpload;
    return false;
  }
  if (backend.clipwiseStagingUpload) return true;
  if (typeof backend.uploadToGPU !== 'function' || !backend.tensorMap || !backend.bufferManager || !backend.queue) return false;
  backend.clipwiseStagingUpload = backend.uploadToGPU;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  backend.uploadToGPU = function uploadWithQueueWrite(this: WebgpuBackendInternals, dataId: unknown): void {
    const data = this.tensorMap.get(dataId);
    if (data.resource != null) return;
    // 4 bytes per element for every dtype the backend stores in buffers (bool is stored as int32)
    const buffer = this.bufferManager.acquireBuffer(4 * tf.util.sizeFromShape(data.shape), usage);
    if (data.values) {
      const ints = data.dtype === 'int32' || data.dtype === 'bool';
      const typed = ints
        ? data.values instanceof Int32Array ? data.values : Int32Array.from(data.values)
        : data.values instanceof Float32Array ? data.values : Float32Array.from(data.values);
      this.queue.writeBuffer(buffer, 0, typed as unknown as BufferSource);
      // once uploaded, the values live on the GPU only (as the backend's own upload does)
      data.values = null;
    }
    data.resource = buffer;
  };
  return true;
}
