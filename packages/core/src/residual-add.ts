import * as tf from '@tensorflow/tfjs-core';

/**
 * a + b for two tensors of one shape, recorded for backward without saving either input. TF.js's
 * `Add` saves clones of both inputs (its gradient reads their shapes to undo broadcasting), so every
 * residual connection of a transformer kept two [B, T, d] tensors alive from the forward pass until
 * its backward (ViT-B/16: a fifth of what the forward pass saves). With equal shapes the gradient is
 * dy for both.
 *
 * @example
 * x = addResidual(x, attention(ln(x)));
 */
export function addResidual<T extends tf.Tensor>(a: T, b: T): T {
  if (a.shape.join(',') !== b.shape.join(',') || a.dtype !== b.dtype) {
    throw new Error(`addResidual: a [${a.shape}] ${a.dtype} and b [${b.shape}] ${b.dtype} must have one shape and dtype`);
  }
  const f = tf.customGrad((...args: unknown[]) => ({
    value: tf.add(args[0] as tf.Tensor, args[1] as tf.Tensor),
    // handles of their own: the backward pass frees dy and each input's gradient separately
    gradFunc: (dy: tf.Tensor) => [tf.clone(dy), tf.clone(dy)],
  }));
  return (f as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor)(a, b) as T;
}
