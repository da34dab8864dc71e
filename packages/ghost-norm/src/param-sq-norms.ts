import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '@clipwise/core';
import { perSampleCrossTerm } from './cross-terms';
import { getNormKernel } from './norm-kernel';

/**
 * Per-sample squared gradient norms [B] of every parameter seen in `records` (all the records of one
 * backward pass): each use's own norm, plus twice the cross term of every pair of uses of a tied
 * parameter. The records stay the caller's; the returned tensors are the caller's to dispose.
 * (The private step folds the same sums as records stream in, so it can close groups early.)
 *
 * @example
 * const sq = paramSqNorms(records); // Map { 'transformer.wte.weight' => [B], ... }
 */
export function paramSqNorms(records: readonly LayerRecord[]): Map<string, tf.Tensor1D> {
  const uses = new Map<string, Array<{ record: LayerRecord; role: string }>>();
  for (const record of records) {
    for (const [role, p] of Object.entries(record.params)) uses.set(p.name, [...(uses.get(p.name) ?? []), { record, role }]);
  }
  const out = new Map<string, tf.Tensor1D>();
  for (const [name, list] of uses) {
    out.set(
      name,
      tf.tidy(() => {
        let sq = tf.zeros([list[0]!.record.gradOutput.shape[0]!]) as tf.Tensor1D;
        list.forEach(({ record, role }, i) => {
          sq = tf.add(sq, getNormKernel(record.kind).perSampleSqNorms(record)[role]!.sqNorms);
          for (let j = 0; j < i; j++) sq = tf.add(sq, tf.mul(2, perSampleCrossTerm(record, role, list[j]!.record, list[j]!.role)));
        });
        return sq;
      }),
    );
  }
  return out;
}
