import * as tf from '@tensorflow/tfjs-core';
import { envSwitch } from '../env-switch';
import { registerWebgpuKernel } from './webgpu-program';

/**
 * Many float32 tensors laid end to end in one new vector by buffer copies (webgpu), for one read of
 * them all: `readAll`'s gather. A private step reads one norm vector per group, 148 with param-wise
 * GPT-2, and `tf.concat` of that many is TF.js's chunked concat: a reshape and shape bookkeeping per
 * input and a program per chunk of inputs (1.4 ms of layer-wise's host time a step and 2.3 of
 * param-wise's on Dawn's null backend, under the profiler, which inflates it). Copies are one native
 * command each and launch no shader.
 */
const KERNEL = 'ClipwisePackByCopies';

/** The tfjs-backend-webgpu 4.x internals the copies join (its command stream and buffer lifetimes). */
interface CopyInternals {
  tensorMap: { get(dataId: unknown): { resource: unknown; dtype: tf.DataType } };
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  uploadToGPU(dataId: unknown): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  commandEncoder: GPUCommandEncoder;
  commandQueueOwnedIds: WeakSet<object>;
}

const copies = envSwitch('CLIPWISE_PACK_BY_COPIES');

/**
 * Whether `readAll` gathers on webgpu by buffer copies or by TF.js's concat (off by default: on an H200,
 * `clipwise bench --ab pack-by-copies` moved no step by more than its rounds' spread); null: back to CLIPWISE_PACK_BY_COPIES
 * (on/off), else off. On Dawn's null backend it takes 14 launches a step off layer-wise GPT-2 and 27 off
 * param-wise (`apps/finetune/bench/enqueue-ab.ts --ab pack-by-copies`); the host time it saves there
 * is within that machine's noise.
 *
 * @example
 * setPackByCopies(true); // readAll gathers by copies
 */
export function setPackByCopies(on: boolean | null): void {
  copies.set(on);
}

/** Whether `packByCopies` is on (`setPackByCopies`). */
export function packByCopiesEnabled(): boolean {
  return copies.enabled();
}

const isBuffer = (r: unknown): r is GPUBuffer => r != null && typeof (r as GPUBuffer).size === 'number' && typeof (r as GPUBuffer).mapAsync === 'function';

registerWebgpuKernel(KERNEL, ({ inputs, backend }) => {
  const be = backend as unknown as CopyInternals;
  const xs = Array.from({ length: Object.keys(inputs).length }, (_, i) => inputs[`x${i}`]!);
  const total = xs.reduce((n, x) => n + tf.util.sizeFromShape(x.shape), 0);
  const out = be.makeTensorInfo([total], 'float32');
  be.uploadToGPU(out.dataId); // its buffer (storage, copy source and destination)
  const dst = be.tensorMap.get(out.dataId).resource as GPUBuffer;
  const sources = xs.map((x) => {
    be.uploadToGPU(x.dataId);
    return be.tensorMap.get(x.dataId).resource;
  });
  if (!sources.every(isBuffer)) throw new Error(`${KERNEL}: an input is not held in a GPU buffer`);
  be.ensureCommandEncoderReady();
  be.endComputePassEncoder(); // copies are recorded outside a compute pass, in order with the kernels around them
  let offset = 0;
  xs.forEach((x, i) => {
    const bytes = 4 * tf.util.sizeFromShape(x.shape);
    if (bytes > 0) be.commandEncoder.copyBufferToBuffer(sources[i]!, 0, dst, offset, bytes);
    // pending commands read it: the backend must not recycle it before it submits
    be.commandQueueOwnedIds.add(x.dataId as object);
    offset += bytes;
  });
  be.commandQueueOwnedIds.add(out.dataId as object);
  return out;
});

/**
 * The tensors' values end to end in one float32 vector made by buffer copies, or null where that does
 * not apply (another backend than webgpu, a tensor that is not float32, fewer than two, or
 * `setPackByCopies(false)`): then use
 * `tf.concat`. The inputs stay the caller's.
 *
 * @example
 * const all = packByCopies(norms) ?? tf.concat(norms.map((n) => tf.reshape(n, [-1])));
 */
export function packByCopies(tensors: readonly tf.Tensor[]): tf.Tensor1D | null {
  if (tf.getBackend() !== 'webgpu' || !copies.enabled() || tensors.length < 2 || tensors.some((t) => t.dtype !== 'float32')) return null;
  if (tensors.every((t) => t.size === 0)) return null; // nothing to copy into a buffer of no bytes
  const inputs: tf.NamedTensorMap = {};
  tensors.forEach((t, i) => (inputs[`x${i}`] = t));
  return tf.engine().runKernel(KERNEL, inputs, {}) as tf.Tensor1D;
}
