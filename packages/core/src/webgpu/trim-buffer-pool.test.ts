import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { trimGpuBufferPool } from './trim-buffer-pool';
import { gpuPoolStats, setPoolFitUp } from './use-size-class-pool';

describe('trimGpuBufferPool', () => {
  it('frees the pooled buffers of shapes no longer used, and later ops still run (webgpu; a no-op elsewhere)', async () => {
    setPoolFitUp(1); // the default trim (a pool that fits up spares buffers under 1 MiB), whatever CLIPWISE_POOL_FIT_UP says
    // tensors of many sizes, all freed: on webgpu each size stays in the backend's pool
    for (let n = 1000; n < 1100; n++) tf.tidy(() => void tf.add(tf.ones([n]), 1));
    const freed = trimGpuBufferPool(0);
    if (tf.getBackend() === 'webgpu') {
      // the size-class pool shares one buffer between nearby sizes; TF.js's own keeps one per size
      expect(freed).toBeGreaterThanOrEqual(gpuPoolStats() ? 4 * 1100 : 100 * 1000 * 4);
      expect(trimGpuBufferPool(0)).toBe(0); // nothing left to free
    } else {
      expect(freed).toBe(0);
    }
    const y = tf.add(tf.ones([1050]), 2);
    expect((await y.data())[7]).toBe(3);
    y.dispose();
    setPoolFitUp(null);
  });
});
