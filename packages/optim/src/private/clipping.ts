import * as tf from '@tensorflow/tfjs-core';
import { fusedOnDevice, sampleTermsClipFactors, sumSampleTerms, type SampleTerm } from '@clipwise/core';
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

/**
 * Per-sample norms n = sqrt(Σ_k sq_k) and clip factors c from a group's squared-norm terms: [B] tensors
 * or terms in any form core's `sampleTermsClipFactors` takes (a ghost norm's tile partials, per-sample
 * gradients whose squared rows count). On webgpu the sum, the square root and the factors are one
 * launch (a launch per ~30 terms beyond the device's bindings), where each term's reduction, their
 * sum, the square root and the factors were launches of their own (a layer-wise GPT-2 small step has
 * 75 groups); elsewhere `clipFactors(sqrt(Σ))` in TF.js ops. Both results are new tensors the caller
 * owns; the terms stay the caller's.
 *
 * @example
 * const { norms, factors } = normsAndClipFactors([weightSq, biasSq], 1.0, { fn: 'abadi' });
 */
export function normsAndClipFactors(
  sq: tf.Tensor1D | readonly (tf.Tensor1D | SampleTerm)[],
  threshold: number,
  config: ClippingConfig,
): { norms: tf.Tensor1D; factors: tf.Tensor1D } {
  const { fn, gamma } = validateClipping(config);
  const list = (Array.isArray(sq) ? sq : [sq]) as readonly (tf.Tensor1D | SampleTerm)[];
  if (list.length === 0) throw new RangeError('normsAndClipFactors: no squared norms');
  const terms = list.map((t): SampleTerm => (t instanceof tf.Tensor ? { kind: 'value', tensor: t } : t));
  if (!fusedOnDevice()) {
    return tf.tidy(() => {
      const norms = tf.sqrt(sumSampleTerms(terms)) as tf.Tensor1D;
      return { norms, factors: clipFactors(norms, threshold, config) };
    });
  }
  return sampleTermsClipFactors(terms, { threshold, gamma, automatic: fn === 'automatic' });
}
