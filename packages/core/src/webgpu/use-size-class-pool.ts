import * as tf from '@tensorflow/tfjs-core';
import { envSetting } from '../env-switch';
import { isPoolFitUp, SizeClassBufferPool, type PoolBuffer, type PoolStats, type SizeClassPoolOptions } from './size-class-pool';

/** TF.js 4.x's own BufferManager, as far as handing buffers back to it goes. */
interface ExactManager {
  usedBuffers: Map<string, PoolBuffer[]>;
  freeBuffers: Map<string, PoolBuffer[]>;
  numUsedBuffers: number;
  numBytesUsed: number;
  numBytesAllocated: number;
}

interface TensorData {
  dtype: tf.DataType;
  shape: number[];
  values: unknown;
  resource: unknown;
}

interface WebgpuInternals {
  device: GPUDevice & PoolDeviceLike;
  bufferManager: ExactManager | SizeClassBufferPool;
  tensorMap: { get(dataId: unknown): TensorData | undefined };
  read(dataId: unknown): Promise<tf.backend_util.BackendValues>;
  getBufferData(buffer: GPUBuffer): Promise<ArrayBuffer>;
  convertAndCacheOnCPU(dataId: unknown, values: tf.backend_util.BackendValues): tf.backend_util.BackendValues;
  clipwiseExactPool?: ExactManager;
  clipwiseExactRead?: (dataId: unknown) => Promise<tf.backend_util.BackendValues>;
}

type PoolDeviceLike = { createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): PoolBuffer };

function webgpuInternals(): WebgpuInternals | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const b = tf.backend() as unknown as WebgpuInternals;
  return b.bufferManager && b.tensorMap && typeof b.read === 'function' && typeof b.getBufferData === 'function' ? b : null;
}

/**
 * Gives TF.js's webgpu backend a size-class buffer pool (`SizeClassBufferPool`): a freed buffer
 * serves any request of its class (≤ 1/16 larger), and `trimGpuBufferPool()` between steps gives
 * back what a whole step left idle. Reads of a tensor whose buffer is larger than its data return
 * exactly the tensor's elements. `setupBackend('webgpu')` installs it; `useSizeClassPool(false)`
 * puts TF.js's exact-size pool back (for before/after benchmarks; buffers in use move over).
 * Returns whether the size-class pool is installed (false on other backends).
 *
 * @example
 * await setupBackend('webgpu');
 * gpuPoolStats(); // { inUse, allocated, peakInUse, peakAllocated } in bytes
 */
export function useSizeClassPool(on = true, options: SizeClassPoolOptions = {}): boolean {
  const b = webgpuInternals();
  if (!b) return false;
  if (!on) {
    restoreExactPool(b);
    return false;
  }
  if (b.bufferManager instanceof SizeClassBufferPool) return true;
  const exact = b.bufferManager as ExactManager;
  const pool = new SizeClassBufferPool(b.device, { limit: b.device.limits.maxStorageBufferBindingSize, fitUp: poolFitUp(), ...options });
  // the exact pool's free buffers are given back; its buffers in use are destroyed when released
  for (const list of exact.freeBuffers.values()) for (const buf of list) buf.destroy();
  exact.freeBuffers.clear();
  b.clipwiseExactPool = exact;
  b.bufferManager = pool;
  b.clipwiseExactRead = b.read;
  b.read = readExactly;
  return true;
}

/** A read that returns the tensor's own elements when its buffer is a larger size class. */
async function readExactly(this: WebgpuInternals, dataId: unknown): Promise<tf.backend_util.BackendValues> {
  const data = this.tensorMap.get(dataId);
  const buffer = data?.resource as GPUBuffer | undefined;
  const bytes = data ? 4 * tf.util.sizeFromShape(data.shape) : 0;
  if (!data || data.values != null || data.dtype === 'complex64' || data.dtype === 'string' || !buffer || buffer.size === bytes) {
    return this.clipwiseExactRead!.call(this, dataId);
  }
  const all = await this.getBufferData(buffer);
  const values = tf.util.convertBackendValuesAndArrayBuffer(all.slice(0, bytes), data.dtype) as tf.backend_util.BackendValues;
  return this.convertAndCacheOnCPU(dataId, values);
}

function restoreExactPool(b: WebgpuInternals): void {
  const pool = b.bufferManager;
  const exact = b.clipwiseExactPool;
  if (!(pool instanceof SizeClassBufferPool) || !exact) return;
  // buffers in use move to the exact pool, keyed by their (class) size as it keys them
  for (const buf of pool.takeUsed()) {
    const k = `${buf.size}_${buf.usage}`;
    if (!exact.usedBuffers.has(k)) exact.usedBuffers.set(k, []);
    if (!exact.freeBuffers.has(k)) exact.freeBuffers.set(k, []);
    exact.usedBuffers.get(k)!.push(buf);
    exact.numUsedBuffers++;
    exact.numBytesUsed += buf.size;
    exact.numBytesAllocated += buf.size;
  }
  pool.dispose();
  b.bufferManager = exact;
  b.read = b.clipwiseExactRead!;
  delete b.clipwiseExactPool;
  delete b.clipwiseExactRead;
}

/** The size-class pool in use, if any (for `trimGpuBufferPool`). */
export function activeSizeClassPool(): SizeClassBufferPool | null {
  const b = webgpuInternals();
  return b && b.bufferManager instanceof SizeClassBufferPool ? b.bufferManager : null;
}

/** The size-class pool's byte counts, or null when it is not installed (another backend, or the exact pool). */
export function gpuPoolStats(): PoolStats | null {
  return activeSizeClassPool()?.stats() ?? null;
}

/** Starts the size-class pool's high-water marks afresh (before a measured step); no-op elsewhere. */
export function resetGpuPoolPeaks(): void {
  activeSizeClassPool()?.resetPeaks();
}

// CLIPWISE_POOL_FIT_UP: off (or unset) for 1, else a ratio of at least 1
const fitUp = envSetting('CLIPWISE_POOL_FIT_UP', (v) => {
  const ratio = v === undefined || v === '' || v === 'off' ? 1 : Number(v);
  if (!isPoolFitUp(ratio)) throw new RangeError(`CLIPWISE_POOL_FIT_UP must be off or a number of at least 1 (how many times its class's bytes a request may take), got '${v}'`);
  return ratio;
});

/**
 * The fit-up ratio of webgpu's size-class pool (`SizeClassBufferPool.fitUp`): set by `setPoolFitUp`,
 * else CLIPWISE_POOL_FIT_UP (read once, and again after `setPoolFitUp(null)`), else 1 (each request its own class only, the default).
 */
export function poolFitUp(): number {
  return fitUp.get();
}

/**
 * Lets a request whose size class has no free buffer take the smallest free one up to `ratio` times
 * its class's bytes, in the pool installed now and any installed later (null: back to
 * CLIPWISE_POOL_FIT_UP, else 1). Off by default: for micro-batches that change shape, with the trim
 * that keeps the largest free buffers (the pool's `releaseIdle` trims smallest first once it fits up), so that a
 * smaller shape's tensors reuse a larger one's buffers instead of creating their own.
 *
 * @example
 * setPoolFitUp(256); // a 1 KiB request may take a free buffer of up to 256 KiB
 */
export function setPoolFitUp(ratio: number | null): void {
  if (ratio !== null && !isPoolFitUp(ratio)) throw new RangeError(`setPoolFitUp: the ratio must be a finite number of at least 1, got ${ratio}`);
  fitUp.set(ratio);
  const pool = activeSizeClassPool();
  if (pool) pool.fitUp = poolFitUp();
}
