import type * as tf from '@tensorflow/tfjs-core';
import { attention } from '@clipwise/core';

/**
 * Multi-head scaled dot-product attention on q, k, v [B, T, d] with `heads` heads; `causal` masks
 * future positions. Parameter-free: gradients flow through TF.js autodiff to the projections. Core's
 * `attention` (fused on webgpu; plain TF.js ops elsewhere); GPT-2 calls `attentionPacked` on its
 * packed q|k|v directly.
 */
export function multiHeadAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, causal: boolean): tf.Tensor3D {
  return attention(q, k, v, { heads, causal });
}
