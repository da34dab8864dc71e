import * as tf from '@tensorflow/tfjs-core';

/**
 * Waits until the device has finished all queued work: a one-element read of `t` (or of a fresh
 * one-element kernel), reads being queued after earlier work. Async only: webgpu in Node has no
 * synchronous read.
 *
 * @example
 * const y = tf.matMul(a, b);
 * await syncDevice(y); // every product so far has run
 */
export async function syncDevice(t?: tf.Tensor): Promise<void> {
  const probe = tf.tidy(() => (t && t.size > 0 ? tf.slice(tf.reshape(t, [-1]), 0, 1) : tf.add(tf.zeros([1]), 1)));
  try {
    await probe.data();
  } finally {
    probe.dispose();
  }
}
