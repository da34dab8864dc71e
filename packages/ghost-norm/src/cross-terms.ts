import { perSampleDot } from '@clipwise/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '@clipwise/core';
import { getNormKernel } from './norm-kernel';

/**
 * A parameter used by two layers (GPT-2's token embedding and its tied LM head) has one per-sample
 * gradient g_i = g_i^A + g_i^B, so ‖g_i‖² = ‖g_i^A‖² + ‖g_i^B‖² + 2⟨g_i^A, g_i^B⟩. A cross-term
 * function gives ⟨g_i^A, g_i^B⟩ ([B]) for the parameter `role` of each record.
 */
export type CrossTerm = (a: LayerRecord, roleA: string, b: LayerRecord, roleB: string) => tf.Tensor1D;

const crossTerms = new Map<string, CrossTerm>();

/** Registers a cross term for records of kinds (kindA, kindB); it is also used for (kindB, kindA). */
export function registerCrossTerm(kindA: string, kindB: string, f: CrossTerm): void {
  crossTerms.set(`${kindA}|${kindB}`, f);
  if (kindA !== kindB) crossTerms.set(`${kindB}|${kindA}`, (b, rb, a, ra) => f(a, ra, b, rb));
}

/** Fallback: instantiate both per-sample gradients and take their inner products. */
export function instantiatedCrossTerm(a: LayerRecord, roleA: string, b: LayerRecord, roleB: string): tf.Tensor1D {
  return tf.tidy(() => {
    const ga = getNormKernel(a.kind).perSampleGrads(a)[roleA]!;
    const gb = getNormKernel(b.kind).perSampleGrads(b)[roleB]!;
    return perSampleDot(ga, gb);
  });
}

/** ⟨g_i^A, g_i^B⟩ per sample, by the registered ghost formula when there is one, else instantiated. */
export function perSampleCrossTerm(a: LayerRecord, roleA: string, b: LayerRecord, roleB: string): tf.Tensor1D {
  const f = crossTerms.get(`${a.kind}|${b.kind}`);
  return (f ?? instantiatedCrossTerm)(a, roleA, b, roleB);
}

// Two linear uses of one weight with the same layout: Σ_{t,s} ⟨a_t, a'_s⟩⟨dy_t, dy'_s⟩.
registerCrossTerm('linear', 'linear', (a, ra, b, rb) => {
  if (ra !== 'weight' || rb !== 'weight' || a.attrs['layout'] !== b.attrs['layout']) return instantiatedCrossTerm(a, ra, b, rb);
  return tf.tidy(() => {
    const aa = tf.matMul(a.activation as tf.Tensor3D, b.activation as tf.Tensor3D, false, true);
    const gg = tf.matMul(a.gradOutput as tf.Tensor3D, b.gradOutput as tf.Tensor3D, false, true);
    return perSampleDot(aa, gg);
  });
});

// Embedding [V, d] (ids x, output grad e) tied to an 'out_in' linear head (input h, output grad g over V):
// ⟨Σ_t onehot(x_t) e_tᵀ, Σ_s g_s h_sᵀ⟩ = Σ_{s,t} g_s[x_t] ⟨h_s, e_t⟩. O(B S T d), no V×d temporaries.
registerCrossTerm('embedding', 'linear', (emb, re, head, rh) => {
  if (re !== 'weight' || rh !== 'weight' || head.attrs['layout'] !== 'out_in') return instantiatedCrossTerm(emb, re, head, rh);
  return tf.tidy(() => {
    const ids = emb.activation as tf.Tensor2D; // [B, T]
    const e = emb.gradOutput as tf.Tensor3D; // [B, T, d]
    const h = head.activation as tf.Tensor3D; // [B, S, d]
    const g = head.gradOutput as tf.Tensor3D; // [B, S, V]
    const gAtIds = tf.gather(g, ids, 2, 1); // [B, S, T]: g_s[x_t]
    const he = tf.matMul(h, e, false, true); // [B, S, T]
    return perSampleDot(gAtIds, he);
  });
});
