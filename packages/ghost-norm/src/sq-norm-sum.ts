import * as tf from '@tensorflow/tfjs-core';

/**
 * Most inputs of one `tf.addN`: webgpu's AddN binds every input and the output as storage buffers,
 * and WebGPU's default limit is eight per shader stage.
 */
const MAX_ADDN_INPUTS = 7;

/**
 * A running Σ of [B] terms (per-sample squared norms, cross terms) folded by `tf.addN` of up to seven
 * at once: one kernel launch per six or seven terms, not one per term (on webgpu each launch costs tens
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

  /**
   * Adds `copies` × `term` and takes ownership of it. Twice is the term passed twice to the same
   * addN (doubling by addition is exact in floating point), not a multiply: one launch fewer.
   */
  add(term: tf.Tensor1D, copies: 1 | 2 = 1): void {
    if (this.terms.length + copies > MAX_ADDN_INPUTS) this.fold();
    tf.keep(term);
    for (let i = 0; i < copies; i++) this.terms.push(term);
    if (this.terms.length === MAX_ADDN_INPUTS) this.fold();
  }

  /** The sum (the caller disposes it), or null if nothing was added; the sum starts over. */
  take(): tf.Tensor1D | null {
    if (this.terms.length > 1) this.fold();
    const total = this.terms[0] ?? null;
    this.terms = [];
    return total;
  }

  dispose(): void {
    tf.dispose(this.terms);
    this.terms = [];
  }

  private fold(): void {
    const total = tf.keep(tf.tidy(() => tf.addN(this.terms) as tf.Tensor1D));
    tf.dispose(this.terms); // a term added twice is listed twice; dispose is idempotent
    this.terms = [total];
  }
}
