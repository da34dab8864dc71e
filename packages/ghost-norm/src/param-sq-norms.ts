import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '@clipwise/core';
import { StreamingSqNorms } from './streaming-sq-norms';

/**
 * Per-sample squared gradient norms [B] of every parameter seen in `records` (all the records of one
 * backward pass): each use's own norm, plus twice the cross term of every pair of uses of a tied
 * parameter — `StreamingSqNorms` fed the whole list, with the uses counted from it. The records stay
 * the caller's; the returned tensors are the caller's to dispose.
 *
 * @example
 * const sq = paramSqNorms(records); // Map { 'transformer.wte.weight' => [B], ... }
 */
export function paramSqNorms(records: readonly LayerRecord[]): Map<string, tf.Tensor1D> {
  const uses = new Map<string, number>();
  for (const record of records) for (const p of Object.values(record.params)) uses.set(p.name, (uses.get(p.name) ?? 0) + 1);
  const folder = new StreamingSqNorms();
  const byName = new Map<string, tf.Tensor1D>();
  try {
    for (const record of records) for (const p of folder.fold(record, { uses }).complete) byName.set(p.name, p.sqNorms);
  } catch (e) {
    folder.dispose();
    tf.dispose([...byName.values()]);
    throw e;
  }
  // in the order parameters first appear
  return new Map([...uses.keys()].map((name) => [name, byName.get(name)!]));
}
