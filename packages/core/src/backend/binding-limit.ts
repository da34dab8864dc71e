import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';

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

/**
 * Throws a {@link ClipwiseConfigError} naming every parameter larger than the backend's binding limit
 * ({@link bindingLimitBytes}): a kernel could not bind it (nor its gradient), and on webgpu the device
 * would reject each launch that tries, long after the model loaded. Mesa's lavapipe allows 128 MiB, less
 * than GPT-2's 147 MiB token embedding; Dawn on an NVIDIA card about 2 GiB.
 *
 * @example
 * checkParamsBindable(model.params); // before the first step
 */
export function checkParamsBindable(params: Iterable<{ readonly name: string; readonly shape: readonly number[] }>, limitBytes = bindingLimitBytes()): void {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const over = [...params]
    .map((p) => ({ p, bytes: 4 * p.shape.reduce((a, b) => a * b, 1) }))
    .filter(({ bytes }) => bytes > limitBytes)
    .map(({ p, bytes }) => `${p.name} [${p.shape.join(', ')}] (${mib(bytes)})`);
  if (over.length === 0) return;
  throw new ClipwiseConfigError(
    `${over.length === 1 ? 'a parameter is' : `${over.length} parameters are`} larger than the largest buffer this ${tf.getBackend()} device lets a kernel bind ` +
      `(maxStorageBufferBindingSize, ${mib(limitBytes)}): ${over.join(', ')}; use a device that allows more, or another backend`,
  );
}
