import * as tf from '@tensorflow/tfjs-core';

/**
 * Reads several float32 tensors with one device read: they are flattened and concatenated on the
 * device and read once, and each comes back as a view of its own length. On webgpu every `data()` is a
 * submit and a buffer map, and a private step reads one norm vector per group (webgpu's Concat
 * splits inputs past the storage-buffer limit into chunks itself). The tensors stay the caller's.
 *
 * @example
 * const [norms, losses] = await readAll([normsTensor, lossTensor]);
 */
export async function readAll(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const all = tensors.length === 1 ? tensors[0]! : tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
  let flat: Float32Array;
  try {
    flat = (await all.data()) as Float32Array;
  } finally {
    if (all !== tensors[0]) all.dispose();
  }
  let offset = 0;
  return tensors.map((t) => flat.subarray(offset, (offset += t.size)));
}
