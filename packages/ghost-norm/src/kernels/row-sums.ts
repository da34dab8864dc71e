import * as tf from '@tensorflow/tfjs-core';
import { weightedRowSums } from '@clipwise/core';

/**
 * Σ_i c_i g_i of the `roles` a compacted record holds as per-sample gradients [B, n] (`record.perSample`):
 * one `weightedRowSums` for all of them (Σ_i g_i when `c` is null). Roles it does not hold are skipped.
 */
export function rowSums(grads: Readonly<Record<string, tf.Tensor>>, c: tf.Tensor1D | null, roles: readonly string[]): Record<string, tf.Tensor> {
  const wanted = roles.filter((r) => grads[r] !== undefined);
  if (wanted.length === 0) return {};
  const rows = wanted.map((r) => grads[r] as tf.Tensor2D);
  const sums = c === null ? rows.map((g) => tf.sum(g, 0) as tf.Tensor1D) : weightedRowSums(c, rows);
  return Object.fromEntries(wanted.map((r, k) => [r, sums[k]!]));
}
