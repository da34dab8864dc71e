import * as tf from '@tensorflow/tfjs-core';

interface BufferManagerLike {
  freeBuffers: Map<string, Array<{ size: number; destroy(): void }>>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}

/**
 * Frees the GPU buffers TF.js's webgpu backend keeps for reuse when they exceed `keepBytes`
 * (default 1 GiB); returns the bytes freed (0 on other backends). The backend pools every freed
 * buffer by its exact size and never gives one back, so shapes that change from step to step
 * (Poisson batches, generation) grow the pool until the device runs out of memory. Call it between
 * steps. Reaches into tfjs-backend-webgpu 4.x internals (its `bufferManager`).
 *
 * @example
 * await pg.accumulate(loss); const { grads } = await pg.release(); opt.step(grads);
 * trimGpuBufferPool();
 */
export function trimGpuBufferPool(keepBytes = 2 ** 30): number {
  if (tf.getBackend() !== 'webgpu') return 0;
  const manager = (tf.backend() as unknown as { bufferManager?: BufferManagerLike }).bufferManager;
  if (!manager?.freeBuffers) return 0;
  let free = 0;
  for (const list of manager.freeBuffers.values()) for (const b of list) free += b.size;
  if (free <= keepBytes) return 0;
  for (const [key, list] of manager.freeBuffers) {
    for (const b of list) b.destroy();
    // keep the key with an empty list: the manager skips releases once its map is empty
    manager.freeBuffers.set(key, []);
  }
  manager.numFreeBuffers = 0;
  manager.numBytesAllocated -= free;
  return free;
}
