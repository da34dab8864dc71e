import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '@clipwise/core';
import { perSampleSqNorm } from '../per-sample-dot';
import { registerNormKernel, type NormKernel } from '../norm-kernel';

const F32 = 4;

/** Per-sample gradients of γ (Σ_t dy ⊙ x̂) and β (Σ_t dy), [B, d] each: cheap, so always instantiated. */
function perSample(record: LayerRecord): { weight: tf.Tensor2D; bias: tf.Tensor2D } {
  const xhat = record.activation as tf.Tensor3D;
  const dy = record.gradOutput as tf.Tensor3D;
  return tf.tidy(() => ({ weight: tf.sum(tf.mul(dy, xhat), 1) as tf.Tensor2D, bias: tf.sum(dy, 1) as tf.Tensor2D }));
}

export const layerNormKernel: NormKernel = {
  kind: 'layernorm',
  perSampleSqNorms(record) {
    const g = perSample(record);
    const out = {
      weight: { sqNorms: perSampleSqNorm(g.weight), mode: 'instantiate' as const },
      bias: { sqNorms: perSampleSqNorm(g.bias), mode: 'instantiate' as const },
    };
    g.weight.dispose();
    g.bias.dispose();
    return out;
  },
  clippedSum(record, c, roles = ['weight', 'bias']) {
    const xhat = record.activation as tf.Tensor3D;
    const dy = record.gradOutput as tf.Tensor3D;
    return tf.tidy(() => {
      const cdy = c === null ? dy : tf.mul(dy, tf.reshape(c, [-1, 1, 1]));
      const out: Record<string, tf.Tensor> = {};
      if (roles.includes('weight')) out['weight'] = tf.sum(tf.mul(cdy, xhat), [0, 1]);
      if (roles.includes('bias')) out['bias'] = tf.sum(cdy, [0, 1]);
      return out;
    });
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
