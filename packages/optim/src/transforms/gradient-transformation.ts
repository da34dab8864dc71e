import * as tf from '@tensorflow/tfjs-core';
import type { InPlaceUpdate } from './in-place-update';

/** Tensors by parameter name. */
export type TensorMap = Readonly<Record<string, tf.Tensor>>;

/** Optimizer state: plain data (numbers, arrays, objects) and tensors, so it serialises into checkpoints. */
export type OptState = unknown;

/**
 * A gradient transformation, as in optax (`GradientTransformation`): a pair of pure functions.
 * `update` returns new updates and a new state and never disposes its inputs; `chain` and
 * `Optimizer.step` dispose what a step replaced.
 */
export interface GradientTransformation<S = OptState> {
  init(params: TensorMap): S;
  update(updates: TensorMap, state: S, params: TensorMap): { updates: Record<string, tf.Tensor>; state: S };
  /**
   * The same step done in place on the device, where the transformation has such a kernel (the
   * built-in SGD, Adam and AdamW on webgpu); `Optimizer.step` prefers it and falls back to `update`.
   */
  inPlace?: InPlaceUpdate<S>;
}

/** Every tensor reachable in a (nested) state or map. */
export function tensorsIn(x: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (x instanceof tf.Tensor) out.push(x);
  else if (Array.isArray(x)) for (const v of x) tensorsIn(v, out);
  else if (x !== null && typeof x === 'object') for (const v of Object.values(x)) tensorsIn(v, out);
  return out;
}

/** `x` rebuilt with each number and tensor replaced by `leaf(value)`, arrays and plain objects walked in `tensorsIn`'s order. */
function mapLeaves(x: unknown, leaf: (v: number | tf.Tensor) => unknown): unknown {
  if (typeof x === 'number' || x instanceof tf.Tensor) return leaf(x);
  if (Array.isArray(x)) return x.map((v) => mapLeaves(v, leaf));
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, mapLeaves(v, leaf)]));
  return x;
}

/** Every number reachable in a (nested) state, in `tensorsIn`'s order of traversal. */
export function numbersIn(x: unknown): number[] {
  const out: number[] = [];
  mapLeaves(x, (v) => typeof v === 'number' && out.push(v));
  return out;
}

/** `x` with its numbers replaced, in `numbersIn`'s order, by `numbers` (its tensors kept). */
export function withNumbers<T>(x: T, numbers: readonly number[]): T {
  let next = 0;
  const out = mapLeaves(x, (v) => {
    if (typeof v !== 'number') return v;
    if (next >= numbers.length) throw new Error('withNumbers: the state has more numbers than were saved');
    return numbers[next++]!;
  }) as T;
  if (next !== numbers.length) throw new Error('withNumbers: the state has fewer numbers than were saved');
  return out;
}

/**
 * `next` with each tensor `where(keep, t, old)`: the tensor at the same place in `old` (the same
 * structure) where `keep` (a bool scalar) is false. New tensors; `old`'s are not disposed, and `next`'s
 * only where `free` says so, each as soon as its selection is made (one tensor's worth at a time, not a state's).
 */
export function selectTensors<T>(keep: tf.Tensor, next: T, old: unknown, free: (t: tf.Tensor) => boolean = () => false): T {
  const olds = tensorsIn(old);
  let k = 0;
  const out = mapLeaves(next, (v) => {
    if (!(v instanceof tf.Tensor)) return v;
    const o = olds[k++];
    if (!o) throw new Error('selectTensors: the states differ in structure');
    if (v === o) return v;
    const chosen = tf.where(keep, v, o);
    if (free(v)) v.dispose();
    return chosen;
  }) as T;
  if (k !== olds.length) throw new Error('selectTensors: the states differ in structure');
  return out;
}

/** Disposes the tensors of `old` that `next` no longer holds. */
export function disposeReplaced(old: unknown, next: unknown): void {
  const keep = new Set(tensorsIn(next));
  for (const t of tensorsIn(old)) if (!keep.has(t)) t.dispose();
}

/**
 * Applies transformations in sequence (optax `chain`).
 *
 * @example
 * const opt = chain(scaleByAdam(), addDecayedWeights(0.01), scaleByLearningRate(1e-3));
 */
export function chain(...transforms: GradientTransformation<any>[]): GradientTransformation<unknown[]> {
  return {
    init: (params) => transforms.map((t) => t.init(params)),
    update(updates, state, params) {
      let current: Record<string, tf.Tensor> = { ...updates };
      const next: unknown[] = [];
      transforms.forEach((t, i) => {
        const r = t.update(current, state[i], params);
        // intermediate updates are ours to free; the caller's input is not
        if (current !== updates) disposeReplaced(current, { keep: r.updates, input: updates });
        current = r.updates;
        next.push(r.state);
      });
      return { updates: current, state: next };
    },
  };
}

/**
 * Maps a per-tensor function over a TensorMap, a tidy per tensor: each entry's intermediates are freed
 * before the next entry's are made (one tidy around all of them held every parameter's at once: AdamW's
 * chain peaked at about seven parameter-sized temporaries per parameter on cpu and wasm).
 */
export function mapTensors(m: TensorMap, f: (t: tf.Tensor, name: string) => tf.Tensor): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(m)) out[k] = tf.tidy(() => f(v, k));
  return out;
}
