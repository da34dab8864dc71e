import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { dispatchDirect } from './direct-dispatch';

const COPY = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> out : array<f32>;
@group(0) @binding(1) var<storage, read> x : array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = x[0]; }`;

/** out ← x[0] by a direct dispatch that binds x as array<f32>. */
async function copied(x: tf.Tensor): Promise<number> {
  const out = tf.tidy(() => tf.zeros([1]).add(0)); // owns its storage
  try {
    dispatchDirect({ key: 'test-dtype-copy', code: COPY, buffers: [{ tensor: out, write: true }, { tensor: x }], workgroups: [1, 1, 1] });
    return (await out.data())[0]!;
  } finally {
    out.dispose();
  }
}

// TF.js casts bool (and int32) to float32 as a view of the int32 storage: the bits of 1 as f32 are
// 1.4e-45, which lavapipe keeps and NVIDIA flushes to 0 (the guarded update's guard read 0 on an H100
// and skipped every update). A direct dispatch refuses such a binding instead of reading it.
describe.runIf(tf.getBackend() === 'webgpu')('dispatchDirect and the storage type of what it binds', () => {
  it('refuses a float32 view of bool or int32 storage, naming the binding and the type', async () => {
    const before = tf.memory().numTensors;
    const flag = tf.tidy(() => tf.cast(tf.isFinite(tf.scalar(2)), 'float32'));
    const count = tf.tidy(() => tf.cast(tf.tensor1d([1], 'int32'), 'float32'));
    expect(flag.dtype).toBe('float32');
    await expect(copied(flag)).rejects.toThrow(/test-dtype-copy: binding 1 holds bool storage where the kernel reads float32/);
    await expect(copied(count)).rejects.toThrow(/binding 1 holds int32 storage/);
    tf.dispose([flag, count]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads float32 storage, such as tf.where of the same flag', async () => {
    const flag = tf.tidy(() => {
      const finite = tf.isFinite(tf.scalar(2));
      return tf.where(finite, tf.onesLike(tf.scalar(2)), tf.zerosLike(tf.scalar(2)));
    });
    expect(await copied(flag)).toBe(1);
    flag.dispose();
  });
});
