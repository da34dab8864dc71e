import * as tf from '@tensorflow/tfjs-core';
import { columnSqNorms, columnSum, type LayerRecord } from '@clipwise/core';
import { registerNormKernel, type NormKernel } from '../norm-kernel';

const F32 = 4;

/** Per-sample gradients of γ (Σ_t dy ⊙ x̂) and β (Σ_t dy), [B, d] each: cheap, so always instantiated. */
function perSample(record: LayerRecord): { weight: tf.Tensor2D; bias: tf.Tensor2D } {
  const xhat = record.activation as tf.Tensor3D;
  const dy = record.gradOutput as tf.Tensor3D;
  return { weight: columnSum(dy, { mul: xhat, perSample: true }) as tf.Tensor2D, bias: columnSum(dy, { perSample: true }) as tf.Tensor2D };
}

export const layerNormKernel: NormKernel = {
  kind: 'layernorm',
  perSampleSqNorms(record) {
    // ‖Σ_t dy ⊙ x̂‖² and ‖Σ_t dy‖² per sample (one kernel on webgpu, the [B, d] gradients never written)
    const { plain, weighted } = columnSqNorms(record.gradOutput as tf.Tensor3D, record.activation as tf.Tensor3D);
    return {
      weight: { sqNorms: weighted!, mode: 'instantiate' as const },
      bias: { sqNorms: plain, mode: 'instantiate' as const },
    };
  },
  clippedSum(record, c, roles = ['weight', 'bias']) {
    const xhat = record.activation as tf.Tensor3D;
    const dy = record.gradOutput as tf.Tensor3D;
    // Σ_i c_i Σ_t dy_it ⊙ x̂_it and Σ_i c_i Σ_t dy_it: c and x̂ folded into one column sum each
    const weights = c === null ? {} : { weights: c };
    const out: Record<string, tf.Tensor> = {};
    if (roles.includes('weight')) out['weight'] = columnSum(dy, { ...weights, mul: xhat });
    if (roles.includes('bias')) out['bias'] = columnSum(dy, weights);
    return out;
  },
  perSampleGrads(record) {
    return { ...perSample(record) };
  },
  cost({ batch, seq, outFeatures: d }) {
    const c = { instantiate: { flops: 3 * batch * seq * d, bytes: batch * d * F32 }, chosen: 'instantiate' as const };
    return { weight: c, bias: c };
  },
};

registerNormKernel(layerNormKernel);
