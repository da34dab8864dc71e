import * as tf from '@tensorflow/tfjs-core';
import { tokenNll } from '@clipwise/core';

/**
 * Per-sample cross-entropy [B] from logits [B, T, V] and int32 labels [B, T], averaged over the
 * positions where `mask` [B, T] is 1 (all positions when absent). A sample with an empty mask has loss 0.
 */
export function perSampleCrossEntropy(logits: tf.Tensor3D, labels: tf.Tensor2D, mask?: tf.Tensor2D, reduction: 'mean' | 'sum' = 'mean'): tf.Tensor1D {
  return tf.tidy(() => maskedPerSample(tokenNll(logits, labels) as tf.Tensor2D, mask, reduction));
}

/**
 * Per-sample [B] sum or mean of per-position losses `nll` [B, T] over the positions where `mask` is 1
 * (all when absent); a sample with an empty mask has loss 0.
 */
export function maskedPerSample(nll: tf.Tensor2D, mask?: tf.Tensor2D, reduction: 'mean' | 'sum' = 'mean'): tf.Tensor1D {
  return tf.tidy(() => {
    const m = mask ? tf.cast(mask, 'float32') : tf.onesLike(nll);
    const total = tf.sum(tf.mul(nll, m), 1);
    if (reduction === 'sum') return total as tf.Tensor1D;
    return tf.div(total, tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor1D;
  });
}
