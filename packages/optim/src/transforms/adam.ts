import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseOptimError } from '../errors';
import type { Schedule } from '../schedules';
import { addDecayedWeights, scaleByLearningRate, traceMomentum } from './basic';
import { chain, mapTensors, type GradientTransformation } from './gradient-transformation';

export interface AdamState {
  count: number;
  mu: Record<string, tf.Tensor>;
  nu: Record<string, tf.Tensor>;
}

/**
 * Adam's rescaling (Kingma & Ba 2015) with bias correction: m̂ / (sqrt(v̂) + ε).
 * With DP noise the second moment is dominated by noise variance; ε matters more than usual.
 */
export function scaleByAdam(b1 = 0.9, b2 = 0.999, eps = 1e-8): GradientTransformation<AdamState> {
  for (const [n, v] of [['b1', b1], ['b2', b2]] as const) {
    if (!(v >= 0 && v < 1)) throw new ClipwiseOptimError(`Adam ${n} must be in [0, 1), got ${v}`);
  }
  if (!(eps > 0)) throw new ClipwiseOptimError(`Adam eps must be > 0, got ${eps}`);
  return {
    init: (params) => ({
      count: 0,
      mu: mapTensors(params, (p) => tf.zerosLike(p)),
      nu: mapTensors(params, (p) => tf.zerosLike(p)),
    }),
    update(u, state) {
      const count = state.count + 1;
      const mu = mapTensors(u, (g, k) => tf.add(tf.mul(state.mu[k]!, b1), tf.mul(g, 1 - b1)));
      const nu = mapTensors(u, (g, k) => tf.add(tf.mul(state.nu[k]!, b2), tf.mul(tf.square(g), 1 - b2)));
      const c1 = 1 - b1 ** count;
      const c2 = 1 - b2 ** count;
      const updates = mapTensors(mu, (m, k) => tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(nu[k]!, c2)), eps)));
      return { updates, state: { count, mu, nu } };
    },
  };
}

export interface SgdOptions {
  learningRate: number | Schedule;
  momentum?: number;
  nesterov?: boolean;
}

/** SGD with optional (Nesterov) momentum. */
export function sgd(o: SgdOptions): GradientTransformation<unknown[]> {
  return o.momentum ? chain(traceMomentum(o.momentum, o.nesterov), scaleByLearningRate(o.learningRate)) : chain(scaleByLearningRate(o.learningRate));
}

export interface AdamOptions {
  learningRate: number | Schedule;
  b1?: number;
  b2?: number;
  eps?: number;
}

export function adam(o: AdamOptions): GradientTransformation<unknown[]> {
  return chain(scaleByAdam(o.b1, o.b2, o.eps), scaleByLearningRate(o.learningRate));
}

export interface AdamWOptions extends AdamOptions {
  /** Default 0.01. */
  weightDecay?: number;
  /** Which parameters decay (default: all); e.g. `(n) => !n.endsWith('.bias')`. */
  decayMask?: (name: string) => boolean;
}

/** AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019). */
export function adamw(o: AdamWOptions): GradientTransformation<unknown[]> {
  return chain(scaleByAdam(o.b1, o.b2, o.eps), addDecayedWeights(o.weightDecay ?? 0.01, o.decayMask), scaleByLearningRate(o.learningRate));
}
