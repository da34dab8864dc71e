import * as tf from '@tensorflow/tfjs-core';
import { columnSqNorms, columnSum, columnSumPair, perSampleSqNorm, type ColumnSumOptions, type LayerRecord } from '@clipwise/core';
import { registerNormKernel, type NormKernel } from '../norm-kernel';

const F32 = 4;

/** Per-sample gradients [B, d] of the roles the record carries: γ (Σ_t dy ⊙ x̂) and β (Σ_t dy); cheap, so always instantiated. */
function perSample(record: LayerRecord): Record<string, tf.Tensor2D> {
  const xhat = record.activation as tf.Tensor3D;
  const dy = record.gradOutput as tf.Tensor3D;
  return bothSums(dy, xhat, record.params['weight'] !== undefined, record.params['bias'] !== undefined, { perSample: true }) as Record<string, tf.Tensor2D>;
}

/**
 * γ's sum (Σ dy ⊙ x̂) and β's (Σ dy) of the roles wanted, with `columnSum`'s options: one paired pass
 * when both are (`columnSumPair`), one `columnSum` otherwise (a frozen γ has no x̂ in the record).
 */
function bothSums(dy: tf.Tensor3D, xhat: tf.Tensor3D | undefined, weight: boolean, bias: boolean, o: Omit<ColumnSumOptions, 'mul'>): Record<string, tf.Tensor> {
  if (weight && bias) {
    const [beta, gamma] = columnSumPair(dy, xhat!, o);
    return { weight: gamma, bias: beta };
  }
  if (weight) return { weight: columnSum(dy, { ...o, mul: xhat }) };
  if (bias) return { bias: columnSum(dy, o) };
  return {};
}

type Field = 'activation' | 'gradOutput';

/** A compacted record's per-sample gradients [B, d] by role (see `compact`), or null for a plain (x̂, dy) record. */
function compacted(record: LayerRecord): Record<string, tf.Tensor2D> | null {
  const fields = record.attrs['perSampleIn'] as Record<string, Field> | undefined;
  if (!fields) return null;
  return Object.fromEntries(Object.entries(fields).map(([role, field]) => [role, record[field] as tf.Tensor2D]));
}

export const layerNormKernel: NormKernel = {
  kind: 'layernorm',
  perSampleSqNorms(record) {
    const grads = compacted(record);
    if (grads) return Object.fromEntries(Object.entries(grads).map(([role, g]) => [role, { sqNorms: perSampleSqNorm(g), mode: 'instantiate' as const }]));
    // ‖Σ_t dy ⊙ x̂‖² (γ) and ‖Σ_t dy‖² (β) per sample, of the roles the record carries (one kernel on
    // webgpu, the [B, d] gradients never written); a frozen γ (BiTFiT trains β alone) has no x̂
    const wantWeight = record.params['weight'] !== undefined;
    const wantBias = record.params['bias'] !== undefined;
    if (!wantWeight && !wantBias) return {};
    const { plain, weighted } = columnSqNorms(record.gradOutput as tf.Tensor3D, wantWeight ? (record.activation as tf.Tensor3D) : undefined);
    const out: Record<string, { sqNorms: tf.Tensor1D; mode: 'instantiate' }> = {};
    if (wantWeight) out['weight'] = { sqNorms: weighted!, mode: 'instantiate' };
    if (wantBias) out['bias'] = { sqNorms: plain, mode: 'instantiate' };
    else plain.dispose();
    return out;
  },
  clippedSum(record, c, roles = ['weight', 'bias']) {
    const grads = compacted(record);
    if (grads) {
      // Σ_i c_i g_i from the per-sample gradients: one [1, B] × [B, d] product a role
      const out: Record<string, tf.Tensor> = {};
      for (const role of roles) {
        const g = grads[role];
        if (g) out[role] = tf.tidy(() => (c === null ? tf.sum(g, 0) : tf.matMul(c.reshape([1, -1]), g).reshape([g.shape[1]])));
      }
      return out;
    }
    const xhat = record.activation as tf.Tensor3D;
    const dy = record.gradOutput as tf.Tensor3D;
    // Σ_i c_i Σ_t dy_it ⊙ x̂_it and Σ_i c_i Σ_t dy_it: c and x̂ folded in, both sums in one pass where both are wanted
    const wantWeight = roles.includes('weight') && record.params['weight'] !== undefined;
    const wantBias = roles.includes('bias') && record.params['bias'] !== undefined;
    return bothSums(dy, xhat, wantWeight, wantBias, c === null ? {} : { weights: c });
  },
  perSampleGrads(record) {
    const grads = compacted(record);
    if (grads) return Object.fromEntries(Object.entries(grads).map(([role, g]) => [role, tf.clone(g)]));
    return { ...perSample(record) };
  },
  // [B, d] a role instead of x̂ and dy [B, T, d]: all-layer clipping then holds 1/T of a layer norm's record
  compact(record) {
    if (compacted(record)) return record;
    // kept: a record outlives the backward pass's scopes, as the recorder keeps the original's tensors
    const grads = tf.tidy(() => perSample(record));
    for (const g of Object.values(grads)) tf.keep(g);
    const roles = Object.keys(grads);
    const fields: Record<string, Field> = roles.length === 2 ? { weight: 'activation', bias: 'gradOutput' } : { [roles[0]!]: 'gradOutput' };
    const by = (field: Field) => roles.find((r) => fields[r] === field);
    const activation = by('activation') ? grads[by('activation')!] : undefined;
    return { layer: record.layer, kind: record.kind, params: record.params, activation, gradOutput: grads[by('gradOutput')!]!, attrs: { ...record.attrs, perSampleIn: fields } };
  },
  compactBytes({ batch, outFeatures: d }, roles) {
    return batch * d * F32 * roles.filter((r) => r === 'weight' || r === 'bias').length;
  },
  cost({ batch, seq, outFeatures: d }) {
    const c = { instantiate: { flops: 3 * batch * seq * d, bytes: batch * d * F32 }, chosen: 'instantiate' as const };
    return { weight: c, bias: c };
  },
};

registerNormKernel(layerNormKernel);
