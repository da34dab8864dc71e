import * as tf from '@tensorflow/tfjs-core';
import { maskedSoftmax } from '@clipwise/core';

/**
 * Multi-head scaled dot-product attention on q, k, v [B, T, d] with `heads` heads; `causal` masks
 * future positions. Parameter-free: gradients flow through TF.js autodiff to the projections.
 */
export function multiHeadAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, causal: boolean): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t, d] = q.shape;
    const hd = d / heads;
    const split = (x: tf.Tensor3D) => tf.transpose(tf.reshape(x, [b, t, heads, hd]), [0, 2, 1, 3]);
    const qh = split(q);
    const kh = split(k);
    const vh = split(v);
    // scale, causal mask and softmax in one op (one WGSL kernel each way on webgpu)
    const probs = maskedSoftmax(tf.matMul(qh, kh, false, true), { scale: 1 / Math.sqrt(hd), causal }); // [B, H, T, T]
    const ctx = tf.matMul(probs, vh); // [B, H, T, hd]
    return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, t, d]) as tf.Tensor3D;
  });
}
