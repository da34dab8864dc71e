import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` with the active backend's method `name` replaced by `wrap(original)` (called on the
 * backend), and puts the original back afterwards, also when `fn` throws: a measurement that watches
 * what a step hands to the backend (`countHostWrites`: its uploads; `timeDeviceWaits`: its reads).
 *
 * @example
 * await withBackendMethod('read', (read) => function (this: unknown, id: unknown) { n++; return read.call(this, id); }, step);
 */
export async function withBackendMethod<T>(
  name: string,
  wrap: (original: (...args: never[]) => unknown) => (this: unknown, ...args: never[]) => unknown,
  fn: () => Promise<T>,
): Promise<T> {
  const backend = tf.backend() as unknown as Record<string, (...args: never[]) => unknown>;
  const own = Object.prototype.hasOwnProperty.call(backend, name);
  const original = backend[name]!;
  backend[name] = wrap(original);
  try {
    return await fn();
  } finally {
    if (own) backend[name] = original;
    else delete backend[name];
  }
}
