import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { gpuPoolStats, poolFitUp, setPoolFitUp, useSizeClassPool } from './use-size-class-pool';
import { trimGpuBufferPool } from './trim-buffer-pool';

describe('useSizeClassPool', () => {
  it('is installed by setupBackend on webgpu and nowhere else; reads return exactly the tensor', async () => {
    const webgpu = tf.getBackend() === 'webgpu';
    expect(gpuPoolStats() !== null).toBe(webgpu);
    // 1001 floats sit in a larger class buffer: the read must still be 1001 values
    const x = tf.range(0, 1001);
    const y = tf.mul(x, 2);
    const values = await y.data();
    expect(values.length).toBe(1001);
    expect(values[1000]).toBe(2000);
    tf.dispose([x, y]);
  });

  it('serves tensors of nearby sizes from one freed buffer (webgpu)', async () => {
    if (tf.getBackend() !== 'webgpu') return;
    trimGpuBufferPool(0);
    const before = gpuPoolStats()!.allocated;
    for (let n = 100_000; n < 100_100; n++) {
      const t = tf.fill([n], 3);
      expect((await t.data()).length).toBe(n);
      t.dispose();
    }
    // TF.js's exact-size pool would keep 100 buffers (40 MB); the class pool one class buffer and staging
    expect(gpuPoolStats()!.allocated - before).toBeLessThan(4 * 100_100 * 1.125 * 3);
  });

  it('hands its buffers in use to TF.js’s own pool and back, values intact', async () => {
    if (tf.getBackend() !== 'webgpu') {
      expect(useSizeClassPool()).toBe(false);
      return;
    }
    const kept = tf.range(0, 5000);
    expect(useSizeClassPool(false)).toBe(false);
    expect(gpuPoolStats()).toBeNull();
    const z = tf.add(kept, 1);
    expect((await z.data())[4999]).toBe(5000);
    tf.dispose(z);
    expect(useSizeClassPool()).toBe(true);
    const w = tf.add(kept, 2);
    expect((await w.data())[4999]).toBe(5001);
    tf.dispose([w, kept]);
  });

  it('fits up where asked: a smaller tensor takes a larger free buffer, and reads exactly its own values (webgpu)', async () => {
    expect(() => setPoolFitUp(0.5)).toThrow(/at least 1/);
    expect(poolFitUp()).toBe(Number(process.env.CLIPWISE_POOL_FIT_UP ?? 1)); // the default, or the run's setting
    if (tf.getBackend() !== 'webgpu') return;
    try {
      setPoolFitUp(64);
      trimGpuBufferPool(0);
      const big = tf.fill([400_000], 1);
      await big.data();
      big.dispose();
      const before = gpuPoolStats()!.allocated;
      // a tenth of the size: its own class has no free buffer, the big one's serves it
      const small = tf.fill([40_000], 5);
      const values = await small.data();
      expect(values.length).toBe(40_000);
      expect(values.every((v) => v === 5)).toBe(true);
      small.dispose();
      expect(gpuPoolStats()!.allocated - before).toBeLessThan(4 * 40_000); // no buffer of the small one's class (the read's staging aside)
    } finally {
      setPoolFitUp(null);
    }
  });

  it('takes CLIPWISE_POOL_FIT_UP (read once) and names it when it is not a ratio', async () => {
    vi.resetModules();
    try {
      vi.stubEnv('CLIPWISE_POOL_FIT_UP', '16');
      expect((await import('./use-size-class-pool')).poolFitUp()).toBe(16);
      vi.resetModules();
      vi.stubEnv('CLIPWISE_POOL_FIT_UP', 'lots');
      await expect(import('./use-size-class-pool').then((m) => m.poolFitUp())).rejects.toThrow(/CLIPWISE_POOL_FIT_UP must be off or a number of at least 1.*'lots'/);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
