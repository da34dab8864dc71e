import * as tf from '@tensorflow/tfjs-core';
import { sumSampleTerms, type SampleTerm } from '@clipwise/core';

/**
 * A running Σ of per-sample squared-norm terms, each in the form it came in: [B] values (a norm, a
 * tied weight's cross term), [B, n] per-sample gradients whose squared rows count (a compacted layer
 * norm's or bias's), and [B, n] partial sums whose rows count (a ghost norm's tile partials). Nothing
 * is summed until the sum is taken: then every term goes into one `sumSampleTerms` (a launch per 30 or
 * so terms on webgpu), or to a consumer that sums terms itself (the clip factors' kernel), where each
 * term's own reduction and the adds between them were launches of their own. Terms are kept past
 * `tf.tidy` scopes (records arrive inside the backward pass's).
 *
 * @example
 * const s = new SqNormSum();
 * s.add(ownA); s.add(ownB); s.add(cross, 2); // ‖g_A + g_B‖² = ‖g_A‖² + ‖g_B‖² + 2⟨g_A, g_B⟩
 * s.addRows(perSampleBiasGrads);             // + Σ_j g[i, j]²
 * const sq = s.take()!; // [B]; the caller disposes it
 */
export class SqNormSum {
  private terms: SampleTerm[] = [];
  /** Tensors of `terms` this sum does not own (borrowed per-sample gradients). */
  private borrowed = new Set<tf.Tensor>();

  /**
   * Adds `copies` × `term` ([B]) and takes ownership of it. Twice is the term listed twice (doubling
   * by addition is exact in floating point), not a multiply: no launch.
   */
  add(term: tf.Tensor1D, copies: 1 | 2 = 1): void {
    tf.keep(term);
    for (let i = 0; i < copies; i++) this.terms.push({ kind: 'value', tensor: term });
  }

  /**
   * Adds Σ_j g[i, j]² per sample i of per-sample gradients `g` [B, n]. Borrows `g` (a record's): it must
   * stay alive until the sum or its terms are taken, and is never disposed here.
   */
  addRows(g: tf.Tensor2D): void {
    this.addTerm({ kind: 'sq', tensor: g }, true);
  }

  /**
   * Adds a term in any form, taking ownership of its tensors, or with `borrowed` leaving them the
   * caller's (a record's dy or per-sample gradients: alive until the sum or its terms are taken).
   */
  addTerm(term: SampleTerm, borrowed = false): void {
    const tensors = termTensors(term);
    if (borrowed) for (const t of tensors) this.borrowed.add(t);
    else tensors.forEach((t) => tf.keep(t));
    this.terms.push(term);
  }

  /** The sum [B] (the caller disposes it), or null if nothing was added; the sum starts over. */
  take(): tf.Tensor1D | null {
    if (this.terms.length === 0) return null;
    const only = this.terms[0]!;
    if (this.terms.length === 1 && only.kind === 'value' && !this.borrowed.has(only.tensor)) {
      this.terms = [];
      return only.tensor;
    }
    const taken = this.takeTerms();
    const sum = tf.keep(sumSampleTerms(taken.terms));
    taken.release();
    return sum;
  }

  /**
   * The sum still as terms, for a consumer that adds them itself (the clip factors': one launch for a
   * group's sum, square root and factors), and `release` to call once it has: it frees the terms this
   * sum owned (borrowed per-sample gradients stay their owner's). Empty if nothing was added; the sum
   * starts over.
   */
  takeTerms(): { readonly terms: SampleTerm[]; release(): void } {
    const terms = this.terms;
    const borrowed = this.borrowed;
    this.terms = [];
    this.borrowed = new Set();
    return { terms, release: () => tf.dispose(terms.flatMap(termTensors).filter((t) => !borrowed.has(t))) };
  }

  dispose(): void {
    this.takeTerms().release();
  }
}

/** The tensors a term reads. */
function termTensors(term: SampleTerm): tf.Tensor[] {
  return term.kind === 'colsq' && term.mul ? [term.tensor, term.mul] : [term.tensor];
}
