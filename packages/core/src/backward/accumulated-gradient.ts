import type * as tf from '@tensorflow/tfjs-core';

/** The running backward pass's gradients so far, and the inputs whose gradient a node took over. */
interface Context {
  readonly acc: ReadonlyMap<number, tf.Tensor>;
  readonly claimed: Set<number>;
}

let active: Context | null = null;

/**
 * Inside a gradient function run by `backward`: the gradient already accumulated for `x` from its
 * other consumers (those later in the forward pass, whose backward ran first), which the caller takes
 * over: the gradient it returns for `x` must include it, so that the pass stores it as the sum and
 * launches no add (a pre-LN block's layer norm adds the residual branch's gradient in its own
 * kernel). Null outside `backward` (TF.js's own gradients) or when nothing has arrived for `x` yet.
 * The tensor stays the pass's: read it, do not dispose it.
 *
 * @example
 * const prev = takeAccumulatedGradient(x);
 * return prev ? dxPlus(prev) : dx();
 */
export function takeAccumulatedGradient(x: tf.Tensor): tf.Tensor | null {
  if (active === null) return null;
  const g = active.acc.get(x.id);
  if (g === undefined) return null;
  active.claimed.add(x.id);
  return g;
}

/** Runs one node's gradient with `acc` open to `takeAccumulatedGradient`; returns the ids it took over. */
export function withAccumulatedGradients<T>(acc: ReadonlyMap<number, tf.Tensor>, f: () => T): { result: T; claimed: Set<number> } {
  const prev = active;
  const ctx: Context = { acc, claimed: new Set() };
  active = ctx;
  try {
    return { result: f(), claimed: ctx.claimed };
  } finally {
    active = prev;
  }
}
