import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseOptimError } from '../errors';
import { toSchedule, type Schedule } from '../schedules';
import { mapTensors, type GradientTransformation, type TensorMap } from './gradient-transformation';

/** Multiplies updates by a constant. */
export function scale(factor: number): GradientTransformation<Record<string, never>> {
  return { init: () => ({}), update: (u, state) => ({ updates: mapTensors(u, (t) => tf.mul(t, factor)), state }) };
}

/** Multiplies updates by −lr(step): the last link of every optimizer. State: the step count. */
export function scaleByLearningRate(lr: number | Schedule): GradientTransformation<{ count: number }> {
  const schedule = toSchedule(lr);
  return {
    init: () => ({ count: 0 }),
    update: (u, state) => ({
      updates: mapTensors(u, (t) => tf.mul(t, -schedule(state.count))),
      state: { count: state.count + 1 },
    }),
  };
}

/** Heavy-ball momentum m ← β m + u (optax `trace`); Nesterov uses β m + u as the update. */
export function traceMomentum(decay: number, nesterov = false): GradientTransformation<{ trace: Record<string, tf.Tensor> }> {
  if (!(decay >= 0 && decay < 1)) throw new ClipwiseOptimError(`momentum must be in [0, 1), got ${decay}`);
  return {
    init: (params) => ({ trace: mapTensors(params, (p) => tf.zerosLike(p)) }),
    update(u, state) {
      const trace = mapTensors(u, (t, k) => tf.add(tf.mul(state.trace[k]!, decay), t));
      const updates = nesterov ? mapTensors(u, (t, k) => tf.add(tf.mul(trace[k]!, decay), t)) : mapTensors(trace, (t) => tf.clone(t));
      return { updates, state: { trace } };
    },
  };
}

/** Decoupled weight decay u ← u + λ θ (Loshchilov & Hutter 2019), on parameters `mask` accepts (default all). */
export function addDecayedWeights(
  weightDecay: number,
  mask: (name: string) => boolean = () => true,
): GradientTransformation<Record<string, never>> {
  if (!(weightDecay >= 0)) throw new ClipwiseOptimError(`weight decay must be ≥ 0, got ${weightDecay}`);
  return {
    init: () => ({}),
    update: (u, state, params: TensorMap) => ({
      updates: mapTensors(u, (t, k) => (mask(k) && weightDecay > 0 ? tf.add(t, tf.mul(params[k]!, weightDecay)) : tf.clone(t))),
      state,
    }),
  };
}
