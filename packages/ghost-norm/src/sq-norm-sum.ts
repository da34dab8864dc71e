import * as tf from '@tensorflow/tfjs-core';
import { storageBindingsPerDispatch, sumOfRowSqNorms } from '@clipwise/core';

/**
 * Most inputs of one `tf.addN`: webgpu's AddN binds every input and the output as storage buffers,
 * as many as the device allows per shader stage (WebGPU's default 8: seven inputs; Dawn in Node as
 * `setupBackend` asks, e.g. lavapipe's 16: fifteen).
 */
function maxAddNInputs(): number {
  return storageBindingsPerDispatch() - 1;
}

/**
 * A running Σ of [B] terms (per-sample squared norms, cross terms) folded by `tf.addN` of up to seven
 * (or more, see `maxAddNInputs`) at once: one kernel launch per six or seven terms, not one per term (on webgpu each launch costs tens
 * of µs of CPU, and an all-layer group has hundreds of terms). The terms and the sum are kept past
 * `tf.tidy` scopes, since records arrive inside the backward pass's.
 *
 * @example
 * const s = new SqNormSum();
 * s.add(ownA); s.add(ownB); s.add(cross, 2); // ‖g_A + g_B‖² = ‖g_A‖² + ‖g_B‖² + 2⟨g_A, g_B⟩
 * const sq = s.take()!; // [B]; the caller disposes it
 */
export class SqNormSum {
  private terms: tf.Tensor1D[] = [];
  /** Per-sample gradients [B, n] whose row norms are still to be added (borrowed, not owned). */
  private rows: tf.Tensor2D[] = [];

  /**
   * Adds Σ_j g[i, j]² per sample i, formed when the sum is taken, with every other such tensor in a few
   * launches (`sumOfRowSqNorms`: the norms of a group's layer norms and biases, where each was a launch).
   * Borrows `g`: it must stay alive until the next `take`/`takeTerms`.
   */
  addRows(g: tf.Tensor2D): void {
    this.rows.push(g);
  }

  /**
   * Adds `copies` × `term` and takes ownership of it. Twice is the term passed twice to the same
   * addN (doubling by addition is exact in floating point), not a multiply: one launch fewer.
   */
  add(term: tf.Tensor1D, copies: 1 | 2 = 1): void {
    const most = maxAddNInputs();
    if (this.terms.length + copies > most) this.fold();
    tf.keep(term);
    for (let i = 0; i < copies; i++) this.terms.push(term);
    if (this.terms.length >= most) this.fold();
  }

  /** The sum (the caller disposes it), or null if nothing was added; the sum starts over. */
  take(): tf.Tensor1D | null {
    this.foldRows();
    if (this.terms.length > 1) this.fold();
    const total = this.terms[0] ?? null;
    this.terms = [];
    return total;
  }

  /**
   * The sum still as terms, at most `most` of them (folded until they fit), for a kernel that adds
   * them itself (the clip factors': one launch where addN + clip factors were two). The caller owns
   * them: a term added twice is listed twice, so dispose them with `tf.dispose` (idempotent). Empty
   * if nothing was added; the sum starts over.
   */
  takeTerms(most: number): tf.Tensor1D[] {
    if (!(most >= 1)) throw new RangeError(`takeTerms: at least one term, got ${most}`);
    this.foldRows();
    if (this.terms.length > most) this.fold();
    const terms = this.terms;
    this.terms = [];
    return terms;
  }

  dispose(): void {
    tf.dispose(this.terms);
    this.terms = [];
    this.rows = [];
  }

  private foldRows(): void {
    if (this.rows.length === 0) return;
    const sq = sumOfRowSqNorms(this.rows);
    this.rows = [];
    this.add(sq);
  }

  private fold(): void {
    const total = tf.keep(tf.tidy(() => tf.addN(this.terms) as tf.Tensor1D));
    tf.dispose(this.terms); // a term added twice is listed twice; dispose is idempotent
    this.terms = [total];
  }
}
