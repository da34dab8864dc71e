import * as tf from '@tensorflow/tfjs-core';
import { ClipwisePrivacyError } from '../errors';
import { engineInternals, type TapeNode } from './engine-internals';
import { filterTape } from './filter-tape';
import { withAccumulatedGradients } from './accumulated-gradient';

export interface BackwardOptions {
  /**
   * 'freeing' (default): each intermediate gradient is disposed as soon as the node that consumes
   * it has run, and each node's saved tensors right after its gradient. 'tfjs': TF.js's own
   * `engine.gradients`, which keeps every intermediate gradient until the whole pass ends (kept
   * for comparison and measurement).
   */
  readonly mode?: 'freeing' | 'tfjs';
  /**
   * Throw if a trainable `tf.Variable` is used directly by a taped op (i.e. outside every DP-aware
   * layer): it would never get a private gradient. Default true.
   */
  readonly guardVariables?: boolean;
  /**
   * Inputs among `xs` whose gradient nobody reads (the recorded step's anchor): their gradients are
   * not accumulated, and kept tensors among them (a shared zero) are not freed; `grads` has zeros
   * for them. 'freeing' mode only.
   */
  readonly discard?: readonly tf.Tensor[];
}

export interface BackwardResult {
  /** The value of `f()`. */
  readonly value: tf.Scalar;
  /** d value / d x for each of `xs` (zeros where `f` does not depend on x). */
  readonly grads: tf.Tensor[];
}

/**
 * Runs `f` with the tape on and backpropagates from its scalar result to `xs`, freeing memory as
 * it goes. TF.js's `engine.gradients` holds every intermediate gradient until the whole backward
 * ends, which hides the memory advantage of closing clipping groups early; this pass frees each
 * gradient once consumed, so a layer's `dy` lives only as long as a recorder keeps it.
 *
 * @example
 * const x = tf.scalar(3);
 * const { value, grads } = backward(() => x.square(), [x]); // value 9, grads [6]
 */
export function backward(f: () => tf.Scalar, xs: tf.Tensor[], options: BackwardOptions = {}): BackwardResult {
  const engine = engineInternals();
  if (xs.length === 0) throw new Error('backward: xs is empty; pass the tensors to differentiate against');
  if (options.mode === 'tfjs') {
    // TF.js's own pass, for like-for-like comparisons (no variable guard).
    const { value, grads } = tf.engine().gradients(f, xs, undefined, true);
    return { value: value as tf.Scalar, grads: grads.map((g, i) => g ?? tf.zerosLike(xs[i]!)) };
  }
  let y: tf.Scalar;
  try {
    y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy('forward', f),
    );
  } catch (e) {
    // the tensors saved for backward by the ops that did run are kept: free them
    if (engine.state.gradientDepth === 0) {
      releaseTape(engine.state.activeTape);
      engine.state.activeTape = null;
    }
    throw e;
  }
  if (!(y instanceof tf.Tensor) || y.rank !== 0) {
    throw new Error(`backward: f must return a scalar tensor, got ${y instanceof tf.Tensor ? `shape [${y.shape}]` : typeof y}`);
  }
  const tape = engine.state.activeTape ?? [];
  try {
    if (options.guardVariables !== false) assertNoUncoveredVariables(tape);
  } catch (e) {
    releaseTape(engine.state.activeTape);
    engine.state.activeTape = null;
    y.dispose();
    throw e;
  }
  const filtered = filterTape(tape, xs, y);
  const discard = new Set((options.discard ?? []).map((t) => t.id));
  return engine.tidy('backward', () => {
    const acc = new Map<number, tf.Tensor>();
    acc.set(y.id, tf.onesLike(y));
    for (let i = filtered.length - 1; i >= 0; i--) {
      const node = filtered[i]!;
      if (node.gradient == null) {
        throw new Error(`backward: no gradient function registered for ${node.kernelName}`);
      }
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      const names = Object.keys(node.inputs);
      // a gradient function may take over an input's gradient so far and return the sum (no add)
      const { result: dxs, claimed } = withAccumulatedGradients(acc, () =>
        tf.tidy(() => {
          const thunks = node.gradient!(dys);
          return names.map((name) => {
            const thunk = thunks[name];
            if (thunk == null) throw new Error(`backward: ${node.kernelName} gives no gradient for input ${name}`);
            return thunk();
          });
        }),
      );
      // This node was the only consumer of its outputs' gradients and of its saved tensors.
      for (const o of node.outputs) {
        acc.get(o.id)?.dispose();
        acc.delete(o.id);
      }
      if (engine.state.gradientDepth === 0) for (const t of node.saved ?? []) t.dispose();
      names.forEach((name, k) => {
        const x = node.inputs[name]!;
        const dx = dxs[k]!;
        if (discard.has(x.id)) {
          if (!(dx as unknown as { kept: boolean }).kept) dx.dispose();
          return;
        }
        const prev = acc.get(x.id);
        if (prev == null) {
          acc.set(x.id, dx);
        } else if (claimed.delete(x.id)) {
          // dx already includes prev
          acc.set(x.id, dx);
          prev.dispose();
        } else {
          acc.set(x.id, tf.add(prev, dx));
          prev.dispose();
          dx.dispose();
        }
      });
    }
    const grads = xs.map((x) => acc.get(x.id) ?? tf.zerosLike(x));
    for (const [id, t] of acc) if (!xs.some((x) => x.id === id)) t.dispose();
    if (engine.state.gradientDepth === 0) {
      releaseTape(tape);
      engine.state.activeTape = null;
    }
    return { value: y, grads };
  });
}

function releaseTape(tape: readonly TapeNode[] | null): void {
  for (const node of tape ?? []) for (const t of node.saved ?? []) t.dispose();
}

function assertNoUncoveredVariables(tape: readonly TapeNode[]): void {
  const uncovered = new Set<string>();
  for (const node of tape) {
    for (const name in node.inputs) {
      const t = node.inputs[name]!;
      if (t instanceof tf.Variable && t.trainable) uncovered.add(`${t.name} [${t.shape}]`);
    }
  }
  if (uncovered.size > 0) {
    throw new ClipwisePrivacyError(
      `trainable variables used outside any DP-aware layer would be trained without privacy: ` +
        `${[...uncovered].join(', ')}. Own them by a Clipwise layer (Linear, Embedding, LayerNorm, ...) ` +
        `or make them non-trainable (tf.variable(x, false)).`,
    );
  }
}
