import * as tf from '@tensorflow/tfjs-core';

interface WritingBackend {
  write(values: unknown, shape: number[], dtype: tf.DataType): unknown;
}

/**
 * Runs `fn` and counts the bytes of host arrays handed to a device backend meanwhile: what a step
 * uploads (`tf.tensor`, `tf.scalar`, and `tf.zeros`, which on webgpu makes a zeroed host array and
 * uploads it; `tf.fill` and `tf.zerosLike` run on the device). Null on backends whose kernels keep
 * their outputs on the host (cpu, wasm), where every kernel's output passes through `write` too.
 * A training step whose inputs are already tensors should upload almost nothing: one `tf.zeros` of
 * GPT-2's 154 MB embedding gradient cost 115 ms a step on an H100 before it showed here.
 *
 * @example
 * const { result, bytes } = await countHostWrites(() => step());
 * if (bytes !== null && bytes > 2 ** 20) console.warn(`the step uploads ${bytes} bytes`);
 */
export async function countHostWrites<T>(fn: () => Promise<T>): Promise<{ result: T; bytes: number | null }> {
  if (tf.getBackend() !== 'webgpu') return { result: await fn(), bytes: null };
  const backend = tf.backend() as unknown as WritingBackend;
  const own = Object.prototype.hasOwnProperty.call(backend, 'write');
  const write = backend.write;
  let bytes = 0;
  backend.write = function (this: unknown, values: unknown, shape: number[], dtype: tf.DataType) {
    if (ArrayBuffer.isView(values)) bytes += values.byteLength;
    return write.call(this, values, shape, dtype);
  };
  try {
    return { result: await fn(), bytes };
  } finally {
    if (own) backend.write = write;
    else delete (backend as Partial<WritingBackend>).write;
  }
}
