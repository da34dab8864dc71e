import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseOptimError } from '../errors';
import { fusedOnDevice, withOwnStorage } from '@clipwise/core';
import { toSchedule, type Schedule } from '../schedules';
import { addDecayedWeights, scaleByLearningRate, traceMomentum } from './basic';
import { chain, mapTensors, type GradientTransformation, type TensorMap } from './gradient-transformation';
import { runInPlace, type InPlaceKernel, type InPlaceUpdate } from './in-place-update';

/** AdamW's default decoupled weight decay (as PyTorch's and optax's). */
const ADAMW_WEIGHT_DECAY = 0.01;

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
  const t = o.momentum ? chain(traceMomentum(o.momentum, o.nesterov), scaleByLearningRate(o.learningRate)) : chain(scaleByLearningRate(o.learningRate));
  return { ...t, inPlace: sgdInPlace(o) };
}

/** SGD's chain state: [{ count }] or [{ trace }, { count }]. */
function sgdInPlace(o: SgdOptions): InPlaceUpdate<unknown[]> {
  const schedule = toSchedule(o.learningRate);
  const decay = o.momentum ?? 0;
  const kernel: InPlaceKernel = !decay ? 'sgd' : o.nesterov ? 'nesterov' : 'momentum';
  return {
    guards: true,
    apply(grads, state, params, guard) {
      if (!fusedOnDevice()) return null;
      const lrState = state[state.length - 1] as { count: number };
      const nlr = -schedule(lrState.count);
      const trace = decay ? { ...(state[0] as { trace: Record<string, tf.Tensor> }).trace } : null;
      runInPlace(
        kernel,
        [...params].map(([name, p]) => {
          if (trace) trace[name] = withOwnStorage(trace[name]!);
          return { p, g: grads[name]!, state: trace ? [trace[name]!] : [], constants: decay ? [decay, nlr] : [nlr] };
        }),
        guard,
      );
      const next = { count: lrState.count + 1 };
      return trace ? [{ trace }, next] : [next];
    },
  };
}

/**
 * Adam/AdamW in place: the state of `chain(scaleByAdam, [addDecayedWeights,] scaleByLearningRate)`,
 * advanced exactly as the chain advances it.
 */
function adamInPlace(o: AdamWOptions, decoupled: boolean): InPlaceUpdate<unknown[]> {
  const b1 = o.b1 ?? 0.9;
  const b2 = o.b2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const wd = decoupled ? (o.weightDecay ?? ADAMW_WEIGHT_DECAY) : 0;
  const mask = o.decayMask ?? (() => true);
  const schedule = toSchedule(o.learningRate);
  return {
    guards: true,
    apply(grads: TensorMap, state, params, guard) {
      if (!fusedOnDevice()) return null;
      const adam = state[0] as AdamState;
      const lrState = state[state.length - 1] as { count: number };
      const count = adam.count + 1;
      const mu = { ...adam.mu };
      const nu = { ...adam.nu };
      const constants = (name: string) => [b1, 1 - b1, b2, 1 - b2, 1 - b1 ** count, 1 - b2 ** count, eps, wd > 0 && mask(name) ? wd : 0, -schedule(lrState.count)];
      runInPlace(
        'adam',
        [...params].map(([name, p]) => {
          mu[name] = withOwnStorage(mu[name]!);
          nu[name] = withOwnStorage(nu[name]!);
          return { p, g: grads[name]!, state: [mu[name]!, nu[name]!], constants: constants(name) };
        }),
        guard,
      );
      const next = { count: lrState.count + 1 };
      return decoupled ? [{ count, mu, nu }, state[1], next] : [{ count, mu, nu }, next];
    },
  };
}

export interface AdamOptions {
  learningRate: number | Schedule;
  b1?: number;
  b2?: number;
  eps?: number;
}

export function adam(o: AdamOptions): GradientTransformation<unknown[]> {
  return { ...chain(scaleByAdam(o.b1, o.b2, o.eps), scaleByLearningRate(o.learningRate)), inPlace: adamInPlace(o, false) };
}

export interface AdamWOptions extends AdamOptions {
  /** Default 0.01. */
  weightDecay?: number;
  /** Which parameters decay (default: all); e.g. `(n) => !n.endsWith('.bias')`. */
  decayMask?: (name: string) => boolean;
}

/** AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019). */
export function adamw(o: AdamWOptions): GradientTransformation<unknown[]> {
  const t = chain(scaleByAdam(o.b1, o.b2, o.eps), addDecayedWeights(o.weightDecay ?? ADAMW_WEIGHT_DECAY, o.decayMask), scaleByLearningRate(o.learningRate));
  return { ...t, inPlace: adamInPlace(o, true) };
}
