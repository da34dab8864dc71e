import * as tf from '@tensorflow/tfjs-core';
import { columnSum, type LayerRecord } from '@clipwise/core';
import { perSampleSqNorm } from '../per-sample-dot';
import { registerNormKernel, type NormKernel } from '../norm-kernel';

const F32 = 4;

/** Per-sample gradients [B, d] of the roles the record carries: γ (Σ_t dy ⊙ x̂) and β (Σ_t dy); cheap, so always instantiated. */
function perSample(record: LayerRecord): Record<string, tf.Tensor2D> {
  const xhat = record.activation as tf.Tensor3D;
  const dy = record.gradOutput as tf.Tensor3D;
  const out: Record<string, tf.Tensor2D> = {};
  // a frozen γ (BiTFiT trains β alone): no x̂ in the record, no γ work
  if (record.params['weight']) out['weight'] = columnSum(dy, { mul: xhat, perSample: true }) as tf.Tensor2D;
  if (record.params['bias']) out['bias'] = columnSum(dy, { perSample: true }) as tf.Tensor2D;
  return out;
}

export const layerNormKernel: NormKernel = {
  kind: 'layernorm',
  perSampleSqNorms(record) {
    const g = perSample(record);
    const out = Object.fromEntries(Object.entries(g).map(([role, t]) => [role, { sqNorms: perSampleSqNorm(t), mode: 'instantiate' as const }]));
    tf.dispose(Object.values(g));
    return out;
  },
  clippedSum(record, c, roles = ['weight', 'bias']) {
    const xhat = record.activation as tf.Tensor3D;
    const dy = record.gradOutput as tf.Tensor3D;
    // Σ_i c_i Σ_t dy_it ⊙ x̂_it and Σ_i c_i Σ_t dy_it: c and x̂ folded into one column sum each
    const weights = c === null ? {} : { weights: c };
    const out: Record<string, tf.Tensor> = {};
    if (roles.includes('weight') && record.params['weight']) out['weight'] = columnSum(dy, { ...weights, mul: xhat });
    if (roles.includes('bias') && record.params['bias']) out['bias'] = columnSum(dy, weights);
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
