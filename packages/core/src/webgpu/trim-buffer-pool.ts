import * as tf from '@tensorflow/tfjs-core';
import { activeSizeClassPool } from './use-size-class-pool';

interface BufferManagerLike {
  freeBuffers: Map<string, Array<{ size: number; destroy(): void }>>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}

/**
 * Gives pooled GPU buffers back to the device between steps; returns the bytes freed (0 on other
 * backends). With the size-class pool `setupBackend('webgpu')` installs (`useSizeClassPool`): the
 * buffers no request took during the step since the previous call, then the largest free ones while
 * more than `keepBytes` (default: no cap) stay free; when it fits up (`setPoolFitUp`), no idle rule:
 * the smallest free buffers of at least 1 MiB while more than `keepBytes` stay free, since its largest
 * serve the most requests. With TF.js's own exact-size pool, which never
 * gives a buffer back (so shapes that change from step to step, Poisson batches and generation, grow
 * it until the device runs out of memory): every free buffer when they exceed `keepBytes` (default
 * 1 GiB). Reaches into tfjs-backend-webgpu 4.x internals (its `bufferManager`).
 *
 * @example
 * await pg.accumulate(loss); const { grads } = await pg.release(); opt.step(grads);
 * trimGpuBufferPool();
 */
export function trimGpuBufferPool(keepBytes?: number): number {
  if (tf.getBackend() !== 'webgpu') return 0;
  const classes = activeSizeClassPool();
  if (classes) return classes.releaseIdle(keepBytes ?? Infinity);
  keepBytes ??= 2 ** 30;
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
