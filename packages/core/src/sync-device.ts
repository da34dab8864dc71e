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

/**
 * Hands the work enqueued so far to the device without waiting for it: on webgpu the backend's open
 * command encoder is submitted (TF.js otherwise submits every `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE`
 * launches and at reads); elsewhere nothing to do. For work that should run while the host waits on
 * something else, e.g. a step's noise during the read of its norms.
 *
 * @example
 * const pending = norms.data(); // submits what came before
 * addNoise(sums);
 * submitQueued(); // the noise runs during the read's round trip, not after it
 */
export function submitQueued(): void {
  if (tf.getBackend() !== 'webgpu') return;
  const b = tf.backend() as unknown as { commandEncoder?: unknown; endComputePassEncoder?: () => void; submitQueue?: () => void };
  if (b.commandEncoder && typeof b.endComputePassEncoder === 'function' && typeof b.submitQueue === 'function') {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}
