import * as tf from '@tensorflow/tfjs-core';

/**
 * The largest tensor, in bytes, the active backend can hand one kernel: webgpu's
 * `maxStorageBufferBindingSize` (about 2 GiB on Dawn), no limit on the other backends. A model that
 * would make a larger tensor (GPT-2's logits at B·T × vocabulary) must split it.
 *
 * @example
 * const fits = 4 * b * t * vocab <= bindingLimitBytes();
 */
export function bindingLimitBytes(): number {
  if (tf.getBackend() !== 'webgpu') return Infinity;
  const limits = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number } } }).device?.limits;
  return limits?.maxStorageBufferBindingSize ?? Infinity;
}
