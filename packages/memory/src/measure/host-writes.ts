import * as tf from '@tensorflow/tfjs-core';
import { withBackendMethod } from './backend-patch';

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
  let bytes = 0;
  const result = await withBackendMethod(
    'write',
    (write) =>
      function (this: unknown, ...args: never[]) {
        const values: unknown = args[0];
        if (ArrayBuffer.isView(values)) bytes += values.byteLength;
        return write.apply(this, args);
      },
    fn,
  );
  return { result, bytes };
}
