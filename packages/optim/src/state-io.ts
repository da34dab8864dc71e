import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseOptimError } from './errors';

/**
 * A JSON-safe copy of an optimizer state. From `serializeState`, tensors are inline
 * `{ $tensor: { shape, dtype, data } }`; from `splitState`, they are `{ $ref: name }` into the
 * separate tensor map of {@link OptimizerStateParts}.
 */
export type SerializedState = unknown;

/** One state tensor's values, as a file format (e.g. safetensors) stores them. */
export interface StateTensor {
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly data: Float32Array | Int32Array;
}

/**
 * An optimizer state in two parts: the structure (JSON-safe, with `{ $ref: name }` where a tensor
 * was) and the tensors by name. A large model's Adam moments do not fit a JSON string (V8's strings
 * stop near 512 M characters, about 25 M numbers), so checkpoints keep the tensors apart, as binary.
 */
export interface OptimizerStateParts {
  readonly structure: SerializedState;
  readonly tensors: Readonly<Record<string, StateTensor>>;
}

interface TensorJSON {
  $tensor: { shape: number[]; dtype: string; data: number[] };
}

interface TensorRef {
  $ref: string;
}

/**
 * A copy of `state` with every tensor replaced by `leaf(tensor, path)` (paths as `state[1].mu.w`):
 * the one walk of the state's arrays and objects that both serialisations share.
 */
async function mapTensors(state: unknown, leaf: (t: tf.Tensor, at: string) => Promise<unknown>, at = 'state'): Promise<unknown> {
  if (state instanceof tf.Tensor) return leaf(state, at);
  if (Array.isArray(state)) {
    const out: unknown[] = [];
    for (let i = 0; i < state.length; i++) out.push(await mapTensors(state[i], leaf, `${at}[${i}]`));
    return out;
  }
  if (state !== null && typeof state === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(state)) out[k] = await mapTensors(v, leaf, `${at}.${k}`);
    return out;
  }
  return state;
}

/** Reads every tensor and returns a JSON-safe structure (numbers keep full float32 precision). */
export async function serializeState(state: unknown): Promise<SerializedState> {
  return mapTensors(state, async (t) => ({ $tensor: { shape: t.shape, dtype: t.dtype, data: Array.from(await t.data()) } }) satisfies TensorJSON);
}

/**
 * Reads every tensor into a typed array of the tensor map, named by its path in the state
 * (`state[1].mu.h.0.attn.c_attn.weight`), and returns the structure with `{ $ref: name }` in its place.
 */
export async function splitState(state: unknown): Promise<OptimizerStateParts> {
  const tensors: Record<string, StateTensor> = {};
  const structure = await mapTensors(state, async (x, at) => {
    if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new ClipwiseOptimError(`optimizer state ${at}: a ${x.dtype} tensor cannot be saved (float32 and int32 only)`);
    let name = at;
    for (let i = 2; name in tensors; i++) name = `${at}#${i}`; // paths can collide when keys hold dots
    tensors[name] = { shape: x.shape, dtype: x.dtype, data: (await x.data()) as Float32Array | Int32Array };
    return { $ref: name } satisfies TensorRef;
  });
  return { structure, tensors };
}

/**
 * Rebuilds a state from `serializeState` or `splitState` output (with `tensors`, the latter's map),
 * checking it has the structure and shapes of `like`.
 */
export function deserializeState(saved: unknown, like: unknown, path = 'state', tensors: Readonly<Record<string, StateTensor>> = {}): unknown {
  if (like instanceof tf.Tensor) {
    const t = tensorOf(saved, tensors, path);
    if (!t || t.shape.join(',') !== like.shape.join(',')) {
      throw new ClipwiseOptimError(`optimizer state ${path}: expected a tensor of shape [${like.shape}], got ${t ? `[${t.shape}]` : typeof saved}`);
    }
    return tf.tensor(t.data, t.shape, t.dtype as tf.DataType);
  }
  if (Array.isArray(like)) {
    if (!Array.isArray(saved) || saved.length !== like.length) throw new ClipwiseOptimError(`optimizer state ${path}: expected an array of ${like.length}`);
    return like.map((l, i) => deserializeState(saved[i], l, `${path}[${i}]`, tensors));
  }
  if (like !== null && typeof like === 'object') {
    if (saved === null || typeof saved !== 'object') throw new ClipwiseOptimError(`optimizer state ${path}: expected an object`);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(like)) {
      if (!(k in saved)) throw new ClipwiseOptimError(`optimizer state ${path}.${k} is missing (was the checkpoint made with another optimizer or model?)`);
      out[k] = deserializeState((saved as Record<string, unknown>)[k], (like as Record<string, unknown>)[k], `${path}.${k}`, tensors);
    }
    return out;
  }
  if (typeof like !== typeof saved) throw new ClipwiseOptimError(`optimizer state ${path}: expected ${typeof like}, got ${typeof saved}`);
  return saved;
}

/** A saved tensor, inline or by reference; undefined when `saved` is neither. */
function tensorOf(saved: unknown, tensors: Readonly<Record<string, StateTensor>>, path: string): { shape: number[]; dtype: string; data: ArrayLike<number> } | undefined {
  if (saved === null || typeof saved !== 'object') return undefined;
  if ('$tensor' in saved) return (saved as TensorJSON).$tensor;
  if (!('$ref' in saved)) return undefined;
  const name = (saved as TensorRef).$ref;
  const t = typeof name === 'string' && Object.hasOwn(tensors, name) ? tensors[name] : undefined;
  if (!t) throw new ClipwiseOptimError(`optimizer state ${path}: the tensor '${String(name)}' it refers to is not among the saved tensors`);
  return t;
}
