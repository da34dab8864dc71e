import * as tf from '@tensorflow/tfjs-core';
import { clippedOuterSum, clippedOuterSumWithBias, clippedOuterSumWithBiasFromTerms, columnSqNorms, columnSum, ghostLayerWidth, ghostSqNorm, ghostSqNormFuses, ghostSqNormPartials, perSampleSqNorm, type LayerRecord } from '@clipwise/core';
import { mixedRuleMode } from '../mixed-rule';
import { pairedBiasClipEnabled } from '../paired-bias-clip';
import { rowSums } from './row-sums';
import { asSqNormTerms, registerNormKernel, type NormKernel, type NormMode, type NormModeOption, type ParamCost, type RecordShape, type SqNormTermResult } from '../norm-kernel';

const F32 = 4;

/**
 * Costs of one linear weight's per-sample norms (Li et al. 2022 "ghost clipping"; Bu et al. 2023
 * "mixed ghost clipping"): ghost forms a aᵀ and dy dyᵀ, O(B T² (d + p)) time and O(B T²) space;
 * instantiate forms G_i = a_iᵀ dy_i, O(B T d p) time and O(B d p) space. The mixed rule
 * (`mixedRuleMode`) takes ghost when 2T² ≤ d p on a GPU, the mode of fewer flops on wasm and tensorflow.
 */
export function linearWeightCost(batch: number, seq: number, d: number, p: number): ParamCost {
  const ghost = { flops: 2 * batch * seq * seq * (d + p) + 2 * batch * seq * seq, bytes: 2 * batch * seq * seq * F32 };
  const instantiate = { flops: 2 * batch * seq * d * p + 2 * batch * d * p, bytes: batch * d * p * F32 };
  return { ghost, instantiate, chosen: mixedRuleMode({ ghost, instantiate }, 2 * seq * seq <= d * p) };
}

function resolveMode(option: NormModeOption, seq: number, d: number, p: number): NormMode {
  if (option !== 'auto') return option;
  return linearWeightCost(1, seq, d, p).chosen;
}

/**
 * Per-sample squared norms of a linear weight and, with `withBias`, of its bias ‖Σ_t dy_it‖². Each dot
 * product is one batched matmul (`perSampleDot`): fewer kernel launches per record. For T = 1 the
 * bias's norm ‖dy_i‖² is a factor of the weight's and is shared. For T > 1 it is not read off the
 * ghost norm's Gram matrix (Σ_{t,s} ⟨dy_it, dy_is⟩ is the same number): that sum of signed terms
 * cancels to rounding noise, possibly negative, for a bias whose gradient is zero (attention keys:
 * softmax ignores a shift), and a negative squared norm is a NaN norm; a sum of squares cannot be.
 */
function linearSqNorms(a: tf.Tensor3D, dy: tf.Tensor3D, mode: NormMode, withBias: boolean): { weight: tf.Tensor1D; bias?: tf.Tensor1D } {
  return tf.tidy(() => {
    if (a.shape[1] === 1) {
      // T = 1: ‖a_i‖² ‖dy_i‖², exact and cheapest.
      const dd = perSampleSqNorm(dy);
      const weight = tf.mul(perSampleSqNorm(a), dd) as tf.Tensor1D;
      return withBias ? { weight, bias: dd } : { weight };
    }
    // ghost: Σ_{t,s} ⟨a_t, a_s⟩⟨dy_t, dy_s⟩ (on webgpu one fused kernel over the Grams' upper triangle)
    const weight = mode === 'ghost' ? ghostSqNorm(a, dy) : perSampleSqNorm(tf.matMul(a, dy, true, false));
    return withBias ? { weight, bias: biasSqNorms(dy) } : { weight };
  });
}

/** ‖Σ_t dy_it‖² [B], as a sum of squares (see `linearSqNorms`). */
function biasSqNorms(dy: tf.Tensor3D): tf.Tensor1D {
  return dy.shape[1] === 1 ? perSampleSqNorm(dy) : columnSqNorms(dy).plain;
}

/**
 * Whether `sqNormTerms` gives the weight's norm as ghost partials (`ghost`), and the bias's inside
 * the same launch (`biasInside`: weight and bias clipped in one group, the bias not compacted).
 */
function ghostPlan(record: LayerRecord, mode: NormModeOption, roles: readonly string[], joint: boolean): { wantWeight: boolean; wantBias: boolean; ghost: boolean; biasInside: boolean } {
  const a = record.activation as tf.Tensor3D | undefined;
  const dy = record.gradOutput as tf.Tensor3D;
  const wantWeight = roles.includes('weight') && record.params['weight'] !== undefined;
  const wantBias = roles.includes('bias') && record.params['bias'] !== undefined;
  const ghost = wantWeight && a !== undefined && a.shape[1] > 1 && resolveMode(mode, a.shape[1], a.shape[2], dy.shape[2]) === 'ghost';
  return { wantWeight, wantBias, ghost, biasInside: ghost && wantBias && joint && !record.perSample?.['bias'] && dy.rank === 3 };
}

function transposed(record: LayerRecord): boolean {
  return record.attrs['layout'] === 'out_in';
}

/**
 * The operands of the weight's Book-Keeping product in stored order: (a, dy) for a weight [in, out],
 * whose bias sum is dy's (y's) extra row; (dy, a) for [out, in], whose bias sum is the x side's.
 */
function outerOperands(record: LayerRecord): { x: tf.Tensor3D; y: tf.Tensor3D; biasOf: 'x' | 'y' } {
  const a = record.activation as tf.Tensor3D;
  const dy = record.gradOutput as tf.Tensor3D;
  return transposed(record) ? { x: dy, y: a, biasOf: 'x' } : { x: a, y: dy, biasOf: 'y' };
}

/**
 * A weight's sum in the parameter's shape: itself where it has it already (a linear layer's), else a
 * reshape (conv2d's [out, in·k·k] product). A reshape is one more tensor handle, which TF.js's engine
 * counts by size: for GPT-2's LM head a second [V, d] (147 MiB) in the step's logical peak.
 */
function inShape(w: tf.Tensor, shape: readonly number[]): tf.Tensor {
  return tf.util.arraysEqual(w.shape, shape as number[]) ? w : tf.reshape(w, shape as number[]);
}

/** Linear kernel factory, shared with conv2d (a linear layer over patches with a reshaped weight). */
export function linearLikeKernel(kind: string): NormKernel {
  const kernel: NormKernel = {
    kind,
    perSampleSqNorms(record, mode = 'auto', roles = ['weight', 'bias']) {
      const a = record.activation as tf.Tensor3D;
      const dy = record.gradOutput as tf.Tensor3D;
      const rows = record.perSample?.['bias'] as tf.Tensor2D | undefined;
      const wantBias = roles.includes('bias') && record.params['bias'] !== undefined;
      // a compacted record holds the bias's per-sample gradients; one formed from dy otherwise
      const bias = () => ({ sqNorms: rows ? perSampleSqNorm(rows) : biasSqNorms(dy), mode: 'instantiate' as const });
      // a frozen weight (BiTFiT): the record has no activation, the bias norm ‖Σ_t dy_it‖² needs none
      if (record.params['weight'] === undefined || !roles.includes('weight')) return wantBias ? { bias: bias() } : {};
      const [, t, d] = a.shape;
      const chosen = resolveMode(mode, t, d, dy.shape[2]);
      const norms = linearSqNorms(a, dy, chosen, wantBias && !rows);
      if (wantBias && rows) return { weight: { sqNorms: norms.weight, mode: chosen }, bias: bias() };
      const out: Record<string, { sqNorms: tf.Tensor1D; mode: NormMode }> = { weight: { sqNorms: norms.weight, mode: chosen } };
      if (norms.bias) out['bias'] = { sqNorms: norms.bias, mode: 'instantiate' };
      return out;
    },
    // a ghost-normed weight hands over the fused kernel's tile partials, a bias its column sums of dy
    // (formed in the consumer's launch): the consumer sums them
    sqNormTerms(record, mode = 'auto', roles = ['weight', 'bias'], joint = false) {
      const a = record.activation as tf.Tensor3D | undefined;
      const dy = record.gradOutput as tf.Tensor3D;
      const out: Record<string, SqNormTermResult> = {};
      // weight and bias in one group: the bias's column sums in the ghost-norm launch's spare workgroups
      const { wantWeight, wantBias, ghost, biasInside } = ghostPlan(record, mode, roles, joint);
      const partials = ghost ? ghostSqNormPartials(a!, dy, { bias: biasInside }) : null;
      if (partials) out['weight'] = { term: { kind: 'sum', tensor: partials }, mode: 'ghost' };
      else if (wantWeight) Object.assign(out, asSqNormTerms(kernel.perSampleSqNorms(record, mode, ['weight'])));
      if (partials && biasInside) out['bias'] = { term: null, mode: 'instantiate' };
      else if (wantBias && !record.perSample?.['bias'] && dy.rank === 3 && dy.shape[1] > 1) out['bias'] = { term: { kind: 'colsq', tensor: dy }, mode: 'instantiate', borrowed: true };
      else if (wantBias) Object.assign(out, asSqNormTerms(kernel.perSampleSqNorms(record, mode, ['bias'])));
      return out;
    },
    // the same partials as `sqNormTerms`, launched by the consumer with other layers'
    deferredGhost(record, mode = 'auto', roles = ['weight', 'bias'], joint = false) {
      const a = record.activation as tf.Tensor3D | undefined;
      const dy = record.gradOutput as tf.Tensor3D;
      const { ghost, biasInside } = ghostPlan(record, mode, roles, joint);
      if (!ghost || a!.rank !== 3 || dy.rank !== 3 || !ghostSqNormFuses(a!, dy)) return null;
      const modes: Record<string, NormMode> = { weight: 'ghost' };
      if (biasInside) modes['bias'] = 'instantiate';
      return { pair: { a: a!, g: dy, bias: biasInside }, modes };
    },
    clippedSum(record, c, roles = ['weight', 'bias']) {
      const a = record.activation as tf.Tensor3D;
      const dy = record.gradOutput as tf.Tensor3D;
      const weight = record.params['weight'];
      const wantWeight = weight !== undefined && roles.includes('weight');
      const rows = record.perSample;
      const wantBias = record.params['bias'] !== undefined && roles.includes('bias') && !rows?.['bias'];
      const fromRows = rows ? rowSums(rows, c, roles) : {};
      return tf.tidy(() => {
        // weight and bias together: one product, the bias as its extra output row ([in, out]: aᵀ dy)
        // or column ([out, in]: dyᵀ a), c applied alike
        if (wantWeight && wantBias) {
          const { x, y, biasOf } = outerOperands(record);
          const { weight: w, bias } = clippedOuterSumWithBias(x, y, c, { biasOf });
          return { weight: inShape(w, weight!.shape), bias, ...fromRows };
        }
        // Σ_i c_i G_i as one product over the B·T rows with c applied as they are read (no scaled
        // copy); (Σ_i c_i G_i)ᵀ for 'out_in': dyᵀ a directly, no transpose
        const out: Record<string, tf.Tensor> = {};
        if (wantWeight) {
          const { x, y } = outerOperands(record);
          out['weight'] = inShape(clippedOuterSum(x, y, c), weight!.shape);
        }
        if (wantBias) out['bias'] = columnSum(dy, c === null ? {} : { weights: c });
        return { ...out, ...fromRows };
      });
    },
    // weight and bias of one group (layer-wise), or the weight alone (param-wise), whose one term is
    // their partials [B, W]: the clip factors formed inside the product that sums them. The weight
    // alone still gets the product's bias row (one row more of M), dropped: its bias is clipped apart
    clippedSumWithClip(record, terms, clip, roles) {
      const term = terms.length === 1 ? terms[0]! : null;
      const a = record.activation as tf.Tensor3D | undefined;
      const dy = record.gradOutput as tf.Tensor3D;
      const weight = record.params['weight'];
      const both = roles.length === 2 && roles.includes('weight') && roles.includes('bias') && record.params['bias'] !== undefined;
      const weightOnly = roles.length === 1 && roles[0] === 'weight';
      if (!(both || weightOnly) || !weight || record.perSample || !a || a.rank !== 3 || dy.rank !== 3 || term?.kind !== 'sum') return null;
      const { x, y, biasOf } = outerOperands(record);
      const r = clippedOuterSumWithBiasFromTerms(x, y, term.tensor, clip, { biasOf });
      const w = inShape(r.weight, weight.shape);
      if (w !== r.weight) r.weight.dispose();
      const sums: Record<string, tf.Tensor> = { weight: w };
      if (both) sums['bias'] = r.bias;
      else r.bias.dispose();
      return { sums, norms: r.norms, factors: r.factors };
    },
    // param-wise: the ghost partials with the bias's chunks after the weight's tiles, then one product
    // that forms each parameter's factors from its own columns (the bias's scale its row of ones)
    clippedSumsApart(record, mode = 'auto', clips) {
      const a = record.activation as tf.Tensor3D | undefined;
      const dy = record.gradOutput as tf.Tensor3D;
      const weight = record.params['weight'];
      const same = clips.weight.automatic === clips.bias.automatic && clips.weight.gamma === clips.bias.gamma;
      if (!pairedBiasClipEnabled() || !same || !weight || !record.params['bias'] || record.perSample || !a || a.rank !== 3 || dy.rank !== 3) return null;
      if (!ghostPlan(record, mode, ['weight', 'bias'], false).ghost || !ghostSqNormFuses(a, dy)) return null;
      const partials = ghostSqNormPartials(a, dy, { bias: true })!;
      const { x, y, biasOf } = outerOperands(record);
      const biasApart = { from: ghostLayerWidth(a.shape[1], dy.shape[2], false), threshold: clips.bias.threshold };
      const r = clippedOuterSumWithBiasFromTerms(x, y, partials, clips.weight, { biasOf, biasApart });
      const w = inShape(r.weight, weight.shape);
      tf.dispose([partials, r.factors, ...(w !== r.weight ? [r.weight] : [])]);
      return { sums: { weight: w, bias: r.bias }, norms: { weight: r.norms, bias: r.biasNorms! }, modes: { weight: 'ghost', bias: 'instantiate' } };
    },
    perSampleGrads(record) {
      const a = record.activation as tf.Tensor3D;
      const dy = record.gradOutput as tf.Tensor3D;
      const weight = record.params['weight'];
      const b = dy.shape[0];
      const out: Record<string, tf.Tensor> = {};
      if (weight) {
        out['weight'] = tf.tidy(() =>
          tf.reshape(transposed(record) ? tf.matMul(dy, a, true, false) : tf.matMul(a, dy, true, false), [b, ...weight.shape]),
        );
      }
      const rows = record.perSample?.['bias'];
      if (record.params['bias']) out['bias'] = rows ? tf.clone(rows) : columnSum(dy, { perSample: true });
      return out;
    },
    // a frozen weight's record (BiTFiT) keeps only the bias's per-sample gradients [B, p] instead of
    // dy [B, T, p]: its norm and clipped sum are then taken with many other small parameters'
    // (`sumSampleTerms`, `weightedRowSums`) when the group closes
    compact(record) {
      // a trained weight keeps (a, dy) for its clipped sum anyway: the bias's norm is then summed from
      // dy's column sums in the group's clip-factor launch and its clipped sum is the weight product's
      // extra row (`clippedOuterSumWithBias`), no launch of its own (its rows formed on arrival were one
      // launch a layer, and their clipped sums more)
      if (record.perSample || !record.params['bias'] || record.params['weight'] !== undefined || record.gradOutput.rank !== 3) return record;
      const bias = tf.keep(columnSum(record.gradOutput as tf.Tensor3D, { perSample: true }));
      return { layer: record.layer, kind: record.kind, params: record.params, attrs: record.attrs, perSample: { bias }, gradOutput: tf.keep(tf.clone(bias)) };
    },
    compactBytes({ batch, outFeatures: p }, roles) {
      return roles.includes('weight') || !roles.includes('bias') ? null : batch * p * F32;
    },
    cost(shape: RecordShape) {
      const { batch, seq, inFeatures: d, outFeatures: p } = shape;
      return {
        weight: linearWeightCost(batch, seq, d, p),
        bias: { instantiate: { flops: batch * seq * p, bytes: batch * p * F32 }, chosen: 'instantiate' },
      };
    },
  };
  return kernel;
}

export const linearKernel = linearLikeKernel('linear');
/** conv2d records hold unfolded patches [B, Ho·Wo, C·kh·kw]: the linear kernel applies as is. */
export const conv2dKernel = linearLikeKernel('conv2d');

registerNormKernel(linearKernel);
registerNormKernel(conv2dKernel);
