import * as tf from '@tensorflow/tfjs-core';
import { clipInProductEnabled, clippedRowSums, columnSqNorms, columnSum, columnSumPair, fusedOnDevice, perSampleSqNorm, type ColumnSumOptions, type LayerRecord } from '@clipwise/core';
import { rowSums } from './row-sums';
import { layerNormClipInSumsEnabled } from '../layer-norm-clip';
import { asSqNormTerms, registerNormKernel, type NormKernel, type SqNormTermResult } from '../norm-kernel';

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

/** A compacted record's per-sample gradients [B, d] by role (see `compact`), or null for a plain (x̂, dy) record. */
function compacted(record: LayerRecord): Record<string, tf.Tensor2D> | null {
  return (record.perSample as Record<string, tf.Tensor2D> | undefined) ?? null;
}

/**
 * γ's and β's per-sample gradients [B, d] of `roles` for a clip-in-the-sums close, or null where that
 * does not apply: off webgpu (the two steps there), with either switch off (`setLayerNormClipInSums`, core's `setClipInProduct`), for a
 * compacted record (its rows are already summed with others'), or for roles it does not carry.
 */
function rowsToClip(record: LayerRecord, roles: readonly string[]): { roles: string[]; rows: tf.Tensor2D[] } | null {
  if (!fusedOnDevice() || !layerNormClipInSumsEnabled() || !clipInProductEnabled() || compacted(record) || record.gradOutput.rank !== 3 || roles.length === 0) return null;
  if (!roles.every((role) => (role === 'weight' || role === 'bias') && record.params[role] !== undefined)) return null;
  const sums = bothSums(record.gradOutput as tf.Tensor3D, record.activation as tf.Tensor3D | undefined, roles.includes('weight'), roles.includes('bias'), { perSample: true });
  return { roles: Object.keys(sums), rows: Object.values(sums) as tf.Tensor2D[] };
}

export const layerNormKernel: NormKernel = {
  kind: 'layernorm',
  perSampleSqNorms(record, _mode, roles = ['weight', 'bias']) {
    const grads = compacted(record);
    if (grads) {
      return Object.fromEntries(
        Object.entries(grads)
          .filter(([role]) => roles.includes(role))
          .map(([role, g]) => [role, { sqNorms: perSampleSqNorm(g), mode: 'instantiate' as const }]),
      );
    }
    // ‖Σ_t dy ⊙ x̂‖² (γ) and ‖Σ_t dy‖² (β) per sample, of the roles the record carries (one kernel on
    // webgpu, the [B, d] gradients never written); a frozen γ (BiTFiT trains β alone) has no x̂
    const wantWeight = roles.includes('weight') && record.params['weight'] !== undefined;
    const wantBias = roles.includes('bias') && record.params['bias'] !== undefined;
    if (!wantWeight && !wantBias) return {};
    const { plain, weighted } = columnSqNorms(record.gradOutput as tf.Tensor3D, wantWeight ? (record.activation as tf.Tensor3D) : undefined);
    const out: Record<string, { sqNorms: tf.Tensor1D; mode: 'instantiate' }> = {};
    if (wantWeight) out['weight'] = { sqNorms: weighted!, mode: 'instantiate' };
    if (wantBias) out['bias'] = { sqNorms: plain, mode: 'instantiate' };
    else plain.dispose();
    return out;
  },
  // γ's and β's norms as column sums of the record's dy (⊙ x̂), formed in the consumer's launch
  sqNormTerms(record, mode, roles = ['weight', 'bias']) {
    if (compacted(record)) return asSqNormTerms(layerNormKernel.perSampleSqNorms(record, mode, roles));
    const dy = record.gradOutput as tf.Tensor3D;
    const xhat = record.activation as tf.Tensor3D | undefined;
    const out: Record<string, SqNormTermResult> = {};
    if (roles.includes('weight') && record.params['weight'] !== undefined) out['weight'] = { term: { kind: 'colsq', tensor: dy, mul: xhat! }, mode: 'instantiate', borrowed: true };
    if (roles.includes('bias') && record.params['bias'] !== undefined) out['bias'] = { term: { kind: 'colsq', tensor: dy }, mode: 'instantiate', borrowed: true };
    return out;
  },
  clippedSum(record, c, roles = ['weight', 'bias']) {
    const grads = compacted(record);
    if (grads) return rowSums(grads, c, roles);
    const xhat = record.activation as tf.Tensor3D;
    const dy = record.gradOutput as tf.Tensor3D;
    // Σ_i c_i Σ_t dy_it ⊙ x̂_it and Σ_i c_i Σ_t dy_it: c and x̂ folded in, both sums in one pass where both are wanted
    const wantWeight = roles.includes('weight') && record.params['weight'] !== undefined;
    const wantBias = roles.includes('bias') && record.params['bias'] !== undefined;
    return bothSums(dy, xhat, wantWeight, wantBias, c === null ? {} : { weights: c });
  },
  // a layer-wise group of γ and β (or one of them): their per-sample gradients in one pass over dy, then
  // their norms, factors and clipped sums in one launch (`clippedRowSums`), where the factors' launches
  // (two on a small batch: `sampleTermChunks`) read dy and x̂ once and the paired sums again
  clippedSumWithClip(record, terms, clip, roles) {
    if (terms.length !== roles.length || terms.some((t) => t.kind !== 'colsq')) return null;
    const made = rowsToClip(record, roles);
    if (!made) return null;
    const r = clippedRowSums(made.rows, made.rows.map(() => 0), [clip]);
    tf.dispose(made.rows);
    return { sums: Object.fromEntries(made.roles.map((role, k) => [role, r.sums[k]!])), norms: r.norms[0]!, factors: r.factors[0]! };
  },
  // param-wise: γ and β each a group, both closing here: the same two launches, each its own factors
  clippedSumsApart(record, _mode, clips) {
    const made = rowsToClip(record, ['weight', 'bias']);
    if (!made) return null;
    const r = clippedRowSums(made.rows, [0, 1], made.roles.map((role) => clips[role as 'weight' | 'bias']));
    tf.dispose([...made.rows, ...r.factors]);
    const by = (xs: tf.Tensor1D[]) => Object.fromEntries(made.roles.map((role, k) => [role, xs[k]!]));
    return { sums: by(r.sums), norms: by(r.norms), modes: { weight: 'instantiate', bias: 'instantiate' } };
  },
  // a group's γ and β (or one of them) gathered with other small groups' closes
  clipRows(record, roles) {
    const made = rowsToClip(record, roles);
    if (made && made.roles.length === roles.length) return made;
    if (made) tf.dispose(made.rows);
    return null;
  },
  perSampleGrads(record) {
    const grads = compacted(record);
    if (grads) return Object.fromEntries(Object.entries(grads).map(([role, g]) => [role, tf.clone(g)]));
    return { ...perSample(record) };
  },
  // [B, d] a role instead of x̂ and dy [B, T, d]: all-layer clipping then holds 1/T of a layer norm's
  // record, and the private step takes these norms and sums with other small parameters' (`sumSampleTerms`)
  compact(record) {
    if (compacted(record)) return record;
    // kept: a record outlives the backward pass's scopes, as the recorder keeps the original's tensors
    const grads = tf.tidy(() => perSample(record));
    for (const g of Object.values(grads)) tf.keep(g);
    // gradOutput: a view of one role's rows, for the record's batch size and shape
    const gradOutput = tf.keep(tf.clone(Object.values(grads)[0]!));
    return { layer: record.layer, kind: record.kind, params: record.params, gradOutput, attrs: record.attrs, perSample: grads };
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
