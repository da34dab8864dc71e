import * as tf from '@tensorflow/tfjs-core';
import { tokenNll } from '@clipwise/core';

/**
 * Per-sample cross-entropy [B] from logits [B, T, V] and int32 labels [B, T], averaged over the
 * positions where `mask` [B, T] is 1 (all positions when absent). A sample with an empty mask has loss 0.
 */
export function perSampleCrossEntropy(logits: tf.Tensor3D, labels: tf.Tensor2D, mask?: tf.Tensor2D, reduction: 'mean' | 'sum' = 'mean'): tf.Tensor1D {
  return tf.tidy(() => {
    const nll = tokenNll(logits, labels); // [B, T]
    const m = mask ? tf.cast(mask, 'float32') : tf.onesLike(nll);
    const total = tf.sum(tf.mul(nll, m), 1);
    if (reduction === 'sum') return total as tf.Tensor1D;
    return tf.div(total, tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor1D;
  });
}
