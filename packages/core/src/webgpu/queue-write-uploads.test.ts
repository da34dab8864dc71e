import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { useQueueWriteUploads } from './queue-write-uploads';

describe('useQueueWriteUploads', () => {
  afterAll(() => useQueueWriteUploads());

  it('uploads float32, int32 and bool values that kernels then read exactly (webgpu; false elsewhere)', async () => {
    const installed = useQueueWriteUploads();
    expect(installed).toBe(tf.getBackend() === 'webgpu');
    const f = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i) * 1e3);
    const n = Int32Array.from({ length: 257 }, (_, i) => (i * 2654435761) | 0);
    const b = Uint8Array.from({ length: 33 }, (_, i) => i % 3 === 0 ? 1 : 0);
    // each through a kernel, so the value goes up to the GPU and comes back from a GPU buffer
    const [yf, yn, yb] = [tf.neg(tf.tensor1d(f)), tf.neg(tf.tensor1d(n, 'int32')), tf.logicalNot(tf.tensor1d(b, 'bool'))];
    expect(Array.from(await yf.data())).toEqual(Array.from(f, (v) => -v));
    expect(Array.from(await yn.data())).toEqual(Array.from(n, (v) => (-v) | 0));
    expect(Array.from(await yb.data())).toEqual(Array.from(b, (v) => 1 - v));
    tf.dispose([yf, yn, yb]);
  });

  it('a pooled buffer reused for an upload does not change results still queued (write after earlier work)', async () => {
    useQueueWriteUploads();
    // free a buffer while a kernel reading it is queued, then upload into a buffer of the same size
    const x = tf.tensor1d([1, 2, 3, 4]);
    const y = tf.mul(x, 10);
    x.dispose();
    const z = tf.add(tf.tensor1d([5, 6, 7, 8]), 0);
    expect(Array.from(await y.data())).toEqual([10, 20, 30, 40]);
    expect(Array.from(await z.data())).toEqual([5, 6, 7, 8]);
    tf.dispose([y, z]);
  });

  it('switches back to the staging upload and on again', async () => {
    expect(useQueueWriteUploads(false)).toBe(false);
    const a = tf.add(tf.tensor1d([1, 2]), 1);
    expect(Array.from(await a.data())).toEqual([2, 3]);
    expect(useQueueWriteUploads()).toBe(tf.getBackend() === 'webgpu');
    const c = tf.add(tf.tensor1d([1, 2]), 1);
    expect(Array.from(await c.data())).toEqual([2, 3]);
    tf.dispose([a, c]);
  });
});
