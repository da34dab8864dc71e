import type * as tf from '@tensorflow/tfjs-core';
import type { LayerKind, ParamSpec } from '../types';

/**
 * What a DP-aware layer hands to the recorder during backward: everything the ghost-norm kernels
 * need to form per-sample gradient norms and clipped sums of the layer's parameters, without ever
 * forming per-sample gradients. The recorder owns the tensors (they are kept clones) and must call
 * `disposeRecord` once it no longer needs them.
 */
export interface LayerRecord {
  /** Layer name. */
  readonly layer: string;
  readonly kind: LayerKind;
  /** The layer's parameters by role ('weight', 'bias', 'gamma', 'beta', ...). */
  readonly params: Readonly<Record<string, ParamSpec>>;
  /**
   * What the layer saw in forward, batch first: the input `a` of a linear layer ([B, ..., d]), the
   * input patches of a conv2d ([B, T, K]), the token ids of an embedding ([B, T], int32), the
   * normalised input `x̂` of a layernorm. Absent for layers whose per-sample gradient is `dy` itself.
   */
  readonly activation?: tf.Tensor;
  /** Gradient of the loss w.r.t. the layer's output, batch first (`dy`). */
  readonly gradOutput: tf.Tensor;
  /** Kind-specific facts (weight layout, vocabulary size, ...). */
  readonly attrs: Readonly<Record<string, unknown>>;
  /**
   * Per-sample gradients [B, n] of some roles, formed early: a record that waits for its group holds
   * them instead of (or beside) what forms them (ghost-norm's `NormKernel.compact`), so their norms and
   * clipped sums can be taken with many other parameters' in a few launches. Freed with the record.
   */
  readonly perSample?: Readonly<Record<string, tf.Tensor>>;
}

/** Frees the tensors a record holds. Idempotent. */
export function disposeRecord(record: LayerRecord): void {
  record.activation?.dispose();
  record.gradOutput.dispose();
  if (record.perSample) for (const t of Object.values(record.perSample)) t.dispose();
}

/** Batch size of a record (its gradOutput's first dimension). */
export function recordBatchSize(record: LayerRecord): number {
  return record.gradOutput.shape[0]!;
}
