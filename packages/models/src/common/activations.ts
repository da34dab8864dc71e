import * as tf from '@tensorflow/tfjs-core';
import { geluTanh as coreGeluTanh } from '@clipwise/core';

/** GPT-2's `gelu_new`: 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))); core's fused form (one WGSL kernel each way on webgpu). */
export const geluTanh = coreGeluTanh;

/** Exact GELU (ViT): 0.5 x (1 + erf(x / √2)). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
}
