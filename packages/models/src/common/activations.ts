import * as tf from '@tensorflow/tfjs-core';

/** GPT-2's `gelu_new`: 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

/** Exact GELU (ViT): 0.5 x (1 + erf(x / √2)). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
}
