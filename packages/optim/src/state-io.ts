import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseOptimError } from './errors';

/** A JSON-safe copy of an optimizer state: tensors become `{ $tensor: { shape, data } }`. */
export type SerializedState = unknown;

interface TensorJSON {
  $tensor: { shape: number[]; dtype: string; data: number[] };
}

/** Reads every tensor and returns a JSON-safe structure (numbers keep full float32 precision). */
export async function serializeState(state: unknown): Promise<SerializedState> {
  if (state instanceof tf.Tensor) {
    return { $tensor: { shape: state.shape, dtype: state.dtype, data: Array.from(await state.data()) } } satisfies TensorJSON;
  }
  if (Array.isArray(state)) return Promise.all(state.map(serializeState));
  if (state !== null && typeof state === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(state)) out[k] = await serializeState(v);
    return out;
  }
  return state;
}

/** Rebuilds a state from `serializeState` output, checking it has the structure and shapes of `like`. */
export function deserializeState(saved: unknown, like: unknown, path = 'state'): unknown {
  if (like instanceof tf.Tensor) {
    const t = (saved as TensorJSON | null)?.$tensor;
    if (!t || t.shape.join(',') !== like.shape.join(',')) {
      throw new ClipwiseOptimError(`optimizer state ${path}: expected a tensor of shape [${like.shape}], got ${t ? `[${t.shape}]` : typeof saved}`);
    }
    return tf.tensor(t.data, t.shape, t.dtype as tf.DataType);
  }
  if (Array.isArray(like)) {
    if (!Array.isArray(saved) || saved.length !== like.length) throw new ClipwiseOptimError(`optimizer state ${path}: expected an array of ${like.length}`);
    return like.map((l, i) => deserializeState(saved[i], l, `${path}[${i}]`));
  }
  if (like !== null && typeof like === 'object') {
    if (saved === null || typeof saved !== 'object') throw new ClipwiseOptimError(`optimizer state ${path}: expected an object`);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(like)) {
      if (!(k in saved)) throw new ClipwiseOptimError(`optimizer state ${path}.${k} is missing (was the checkpoint made with another optimizer or model?)`);
      out[k] = deserializeState((saved as Record<string, unknown>)[k], (like as Record<string, unknown>)[k], `${path}.${k}`);
    }
    return out;
  }
  if (typeof like !== typeof saved) throw new ClipwiseOptimError(`optimizer state ${path}: expected ${typeof like}, got ${typeof saved}`);
  return saved;
}
