import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { countHostWrites } from './host-writes';
import { measureStep } from './measure-step';

describe('countHostWrites', () => {
  it.runIf(tf.getBackend() === 'webgpu')('counts host arrays uploaded (tf.zeros, tf.tensor), not zeros made on the device (tf.fill)', async () => {
    const backendWrite = (tf.backend() as unknown as { write: unknown }).write;
    const zeros = await countHostWrites(async () => tf.zeros([256, 300]));
    expect(zeros.bytes).toBe(4 * 256 * 300);
    const fill = await countHostWrites(async () => tf.add(tf.fill([256, 300], 0), tf.zerosLike(zeros.result)));
    expect(fill.bytes).toBe(0);
    const given = await countHostWrites(async () => tf.tensor1d([1, 2, 3], 'int32'));
    expect(given.bytes).toBe(12);
    // the backend's own method is back, also after a throw
    await expect(countHostWrites(async () => { tf.zeros([4]); throw new Error('inside'); })).rejects.toThrow('inside');
    expect((tf.backend() as unknown as { write: unknown }).write).toBe(backendWrite);
    tf.dispose([zeros.result, fill.result, given.result]);
  });

  it.runIf(tf.getBackend() === 'webgpu')("measureStep reports the profiled step's uploads", async () => {
    const w = tf.variable(tf.ones([64, 64]));
    const m = await measureStep(async () => tf.tidy(() => tf.sum(tf.add(w, tf.zeros([64, 64])))), { warmup: 0, reps: 0 });
    expect(m.hostWriteBytes).toBe(4 * 64 * 64);
    w.dispose();
  });

  it.runIf(tf.getBackend() !== 'webgpu')('is null where kernels keep their outputs on the host', async () => {
    const { result, bytes } = await countHostWrites(async () => tf.zeros([8]));
    expect(bytes).toBeNull();
    expect(result.shape).toEqual([8]);
    result.dispose();
  });
});
