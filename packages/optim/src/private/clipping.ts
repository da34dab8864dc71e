import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseOptimError } from '../errors';

/**
 * Per-sample clipping function.
 * - 'abadi' (Abadi et al. 2016): c = min(1, C / n).
 * - 'automatic' (AUTO-S, Bu et al. 2023, "Automatic clipping"): c = C / (n + γ); every sample is
 *   rescaled, so the threshold only scales the learning rate.
 */
export type ClippingConfig = { readonly fn: 'abadi' } | { readonly fn: 'automatic'; readonly gamma?: number };

export function validateClipping(config: ClippingConfig): Required<{ fn: ClippingConfig['fn']; gamma: number }> {
  if (config.fn === 'abadi') return { fn: 'abadi', gamma: 0 };
  if (config.fn === 'automatic') {
    const gamma = config.gamma ?? 0.01;
    if (!(gamma > 0) || !Number.isFinite(gamma)) {
      throw new ClipwiseOptimError(`automatic clipping needs gamma > 0 (stability constant), got ${gamma}; the usual value is 0.01`);
    }
    return { fn: 'automatic', gamma };
  }
  throw new ClipwiseOptimError(`unknown clipping function '${(config as { fn: string }).fn}': expected 'abadi' or 'automatic'`);
}

/** Clip factors [B] for per-sample norms `norms` [B] and threshold C. */
export function clipFactors(norms: tf.Tensor1D, threshold: number, config: ClippingConfig): tf.Tensor1D {
  const { fn, gamma } = validateClipping(config);
  return tf.tidy(() => {
    if (fn === 'automatic') return tf.div(threshold, tf.add(norms, gamma)) as tf.Tensor1D;
    // min(1, C / n) as C / max(n, C): 1 for n ≤ C (n = 0 included), C / n above; two ops, not three
    return tf.div(threshold, tf.maximum(norms, threshold)) as tf.Tensor1D;
  });
}
