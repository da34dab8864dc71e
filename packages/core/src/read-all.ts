import * as tf from '@tensorflow/tfjs-core';

/**
 * Reads several float32 tensors with one device read: they are flattened and concatenated on the
 * device and read once, and each comes back as a view of its own length. On webgpu every `data()` is a
 * submit and a buffer map, and a private step reads one norm vector per group (webgpu's Concat
 * splits inputs past the storage-buffer limit into chunks itself). The tensors stay the caller's,
 * unless `dispose` is set: then they are freed as soon as the read no longer needs them (right after
 * the concatenation is enqueued, before the wait), so their release costs the host no time after the
 * device answers (a param-wise step reads 148 norm vectors).
 *
 * @example
 * const [norms, losses] = await readAll([normsTensor, lossTensor]);
 * const [a, b] = await readAll([x, y], { dispose: true }); // x and y are disposed
 */
export async function readAll(tensors: readonly tf.Tensor[], options: { dispose?: boolean } = {}): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const sizes = tensors.map((t) => t.size);
  let all: tf.Tensor;
  try {
    // vectors go in as they are (a reshape is one more engine entry each: 148 in a param-wise step)
    all = tensors.length === 1 ? tensors[0]! : tf.tidy(() => tf.concat(tensors.map((t) => (t.rank === 1 ? t : tf.reshape(t, [-1])))));
  } catch (e) {
    if (options.dispose) tf.dispose([...tensors]);
    throw e;
  }
  // the concatenation is enqueued: the inputs can go (TF.js frees their buffers after the submit that reads them)
  if (options.dispose && all !== tensors[0]) tf.dispose([...tensors]);
  let flat: Float32Array;
  try {
    flat = (await all.data()) as Float32Array;
  } finally {
    if (all !== tensors[0] || options.dispose) all.dispose();
  }
  let offset = 0;
  return sizes.map((size) => flat.subarray(offset, (offset += size)));
}
