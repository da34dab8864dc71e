/**
 * The questions users ask before training: what ε will this spend, what σ do I need for a target ε,
 * and how many steps can I afford at a given σ. Each answer builds a fresh accountant from the
 * registry, so it works with any registered accountant that gives a guarantee.
 */
import type { AccountantOptions, PrivacySpent } from './accountants/accountant';
import { createAccountant, getAccountantFactory } from './accountants/registry';
import { ClipwiseAccountantError } from './errors';
import { checkDelta, checkNoiseMultiplier, checkPositive, checkSampleRate, checkSteps } from './validate';

interface CommonQuestion {
  delta: number;
  sampleRate: number;
  /** Registered accountant name; default 'rdp'. */
  accountant?: string;
  /** Options for the accountant (sampling, orders, epsError, ...). */
  accountantOptions?: AccountantOptions & Record<string, unknown>;
}

/** One accountant evaluation of a search (`calibrateNoise`, `maxSteps`): the point tried and its ε. */
export interface SearchEvaluation {
  /** Evaluations so far, this one included. */
  evaluations: number;
  noiseMultiplier: number;
  steps: number;
  epsilon: number;
}

/** A search's options: `onEvaluation` is called after each accountant evaluation (for progress; PRV ones take ~0.5 s each). */
interface SearchOptions {
  onEvaluation?: (e: SearchEvaluation) => void;
}

export interface ComputeEpsilonOptions extends CommonQuestion {
  noiseMultiplier: number;
  steps: number;
}

/**
 * ε after `steps` steps at (σ, q).
 *
 * @example
 * ```ts
 * computeEpsilon({ sampleRate: 256 / 60000, noiseMultiplier: 1.1, steps: 14063, delta: 1e-5 }).epsilon; // 2.5966…
 * ```
 */
export function computeEpsilon(options: ComputeEpsilonOptions): PrivacySpent {
  const { noiseMultiplier, sampleRate, steps, delta } = options;
  checkNoiseMultiplier(noiseMultiplier);
  checkSampleRate(sampleRate);
  checkSteps(steps);
  checkDelta(delta);
  const acc = createAccountant(options.accountant ?? 'rdp', options.accountantOptions);
  return acc.step(noiseMultiplier, sampleRate, steps).getPrivacySpent(delta);
}

export interface CalibrateNoiseOptions extends CommonQuestion, SearchOptions {
  targetEpsilon: number;
  steps: number;
  /** Bisection stops when the bracket on σ is narrower than this (default 1e-4). */
  tolerance?: number;
  /** Give up above this σ (default 1e4). */
  maxNoiseMultiplier?: number;
}

export interface NoiseCalibration {
  /** The smallest σ found with ε(σ) <= targetEpsilon; ε(σ - tolerance) > targetEpsilon. */
  noiseMultiplier: number;
  /** ε at that σ. */
  epsilon: number;
  /** Largest σ tried with ε > target (the bracket's lower end). */
  lowerNoiseMultiplier: number;
  tolerance: number;
  accountant: string;
  /** Accountant evaluations used. */
  evaluations: number;
}

function refuseApproximate(name: string): void {
  if (getAccountantFactory(name).approximate === true) {
    throw new ClipwiseAccountantError(
      `accountant '${name}' is an approximation, so calibrating to it would not guarantee the target ε; use 'rdp' or 'prv'.`,
      { argument: 'accountant' },
    );
  }
}

function unreachable(target: number, sigma: number, eps: number, name: string, extra = ''): ClipwiseAccountantError {
  return new ClipwiseAccountantError(
    `targetEpsilon = ${target} is unreachable: even noiseMultiplier = ${sigma} gives ε = ${eps} with the '${name}' accountant. ` +
      `Ask for a larger targetEpsilon, fewer steps or a smaller sampleRate${extra}.`,
    { argument: 'targetEpsilon' },
  );
}

/**
 * The smallest noise multiplier σ such that `steps` steps at sampling rate q are
 * (targetEpsilon, delta)-DP, by bracketing and bisection on σ to `tolerance`. ε is monotone
 * decreasing in σ, so the returned σ satisfies ε(σ) <= target and ε(σ - tolerance) > target.
 *
 * @example
 * ```ts
 * const { noiseMultiplier } = calibrateNoise({ targetEpsilon: 3, delta: 1e-5, sampleRate: 256 / 60000, steps: 14063 });
 * ```
 */
export function calibrateNoise(options: CalibrateNoiseOptions): NoiseCalibration {
  const { targetEpsilon, delta, sampleRate, steps } = options;
  const name = options.accountant ?? 'rdp';
  checkPositive(targetEpsilon, 'targetEpsilon', 'pass the ε budget you want to spend, e.g. 3.');
  checkDelta(delta);
  checkSampleRate(sampleRate);
  checkSteps(steps, 'steps', 1);
  const tolerance = checkPositive(options.tolerance ?? 1e-4, 'tolerance', 'a typical value is 1e-4.');
  const maxSigma = checkPositive(options.maxNoiseMultiplier ?? 1e4, 'maxNoiseMultiplier', 'the default is 1e4.');
  refuseApproximate(name);
  const epsError = options.accountantOptions?.epsError;
  if (name === 'prv' && targetEpsilon <= (typeof epsError === 'number' ? epsError : 0.01)) {
    throw new ClipwiseAccountantError(
      `targetEpsilon = ${targetEpsilon} is unreachable with the 'prv' accountant: its upper bound is at least epsError = ` +
        `${typeof epsError === 'number' ? epsError : 0.01}. Pass a smaller epsError or a larger targetEpsilon.`,
      { argument: 'targetEpsilon' },
    );
  }
  let evaluations = 0;
  const epsilonAt = (sigma: number): number => {
    evaluations++;
    const epsilon = createAccountant(name, options.accountantOptions).step(sigma, sampleRate, steps).epsilon(delta);
    options.onEvaluation?.({ evaluations, noiseMultiplier: sigma, steps, epsilon });
    return epsilon;
  };

  // Bracket [lo, hi] with ε(lo) > target >= ε(hi). Accountants other than RDP start from the RDP
  // answer (an upper bound on ε, so usually already feasible) and step by 10%, which keeps
  // expensive evaluations (PRV grids grow with ε) near the answer.
  let hi: number;
  let factor: number;
  if (name === 'rdp') {
    hi = 1;
    factor = 2;
  } else {
    hi = calibrateNoise({ ...options, accountant: 'rdp', accountantOptions: undefined, tolerance: 1e-3, onEvaluation: undefined }).noiseMultiplier;
    factor = 1.1;
  }
  let epsHi = epsilonAt(hi);
  let lo: number;
  if (epsHi > targetEpsilon) {
    do {
      lo = hi;
      hi *= factor;
      if (hi > maxSigma) {
        const epsMax = epsilonAt(maxSigma);
        if (epsMax > targetEpsilon) throw unreachable(targetEpsilon, maxSigma, epsMax, name);
        hi = maxSigma;
      }
      epsHi = epsilonAt(hi);
    } while (epsHi > targetEpsilon);
  } else {
    lo = hi / factor;
    while (epsilonAt(lo) <= targetEpsilon) {
      hi = lo;
      lo /= factor;
      if (lo < 1e-6) {
        throw new ClipwiseAccountantError(
          `targetEpsilon = ${targetEpsilon} is met by every noise multiplier down to 1e-6; no calibration is needed ` +
            '(check that targetEpsilon, delta and steps are what you meant).',
          { argument: 'targetEpsilon' },
        );
      }
    }
    epsHi = epsilonAt(hi);
  }
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    const eps = epsilonAt(mid);
    if (eps <= targetEpsilon) {
      hi = mid;
      epsHi = eps;
    } else {
      lo = mid;
    }
  }
  return { noiseMultiplier: hi, epsilon: epsHi, lowerNoiseMultiplier: lo, tolerance, accountant: name, evaluations };
}

export interface MaxStepsOptions extends CommonQuestion, SearchOptions {
  targetEpsilon: number;
  noiseMultiplier: number;
  /** Give up above this many steps (default 1e9). */
  maxSteps?: number;
}

export interface StepsBudget {
  /** The largest number of steps with ε <= targetEpsilon (0 if even one step exceeds it). */
  steps: number;
  /** ε after that many steps. */
  epsilon: number;
  accountant: string;
  evaluations: number;
}

/**
 * How many steps at (σ, q) fit in a (targetEpsilon, delta) budget: doubling (from the RDP answer,
 * for other accountants), then integer bisection (ε grows with the number of steps).
 *
 * @example
 * ```ts
 * maxSteps({ targetEpsilon: 8, delta: 1e-5, sampleRate: 0.01, noiseMultiplier: 1 }).steps;
 * ```
 */
export function maxSteps(options: MaxStepsOptions): StepsBudget {
  const { targetEpsilon, delta, sampleRate, noiseMultiplier } = options;
  const name = options.accountant ?? 'rdp';
  checkPositive(targetEpsilon, 'targetEpsilon', 'pass the ε budget you want to spend, e.g. 3.');
  checkDelta(delta);
  checkSampleRate(sampleRate);
  checkNoiseMultiplier(noiseMultiplier);
  const limit = checkSteps(options.maxSteps ?? 1e9, 'maxSteps', 1);
  refuseApproximate(name);
  let evaluations = 0;
  const epsilonAt = (steps: number): number => {
    evaluations++;
    const epsilon = createAccountant(name, options.accountantOptions).step(noiseMultiplier, sampleRate, steps).epsilon(delta);
    options.onEvaluation?.({ evaluations, noiseMultiplier, steps, epsilon });
    return epsilon;
  };
  let good = 0;
  let epsGood = 0;
  let bad = 1;
  let factor = 2;
  if (name !== 'rdp') {
    // RDP's ε is an upper bound, so its answer is usually within budget here too: start from it
    // and grow by 25%, which saves most of the (expensive) doubling from one step.
    const start = maxSteps({ ...options, accountant: 'rdp', accountantOptions: undefined, onEvaluation: undefined }).steps;
    if (start > 0) {
      bad = start;
      factor = 1.25;
    }
  }
  let eps = epsilonAt(bad);
  while (eps <= targetEpsilon) {
    good = bad;
    epsGood = eps;
    if (bad >= limit) return { steps: good, epsilon: epsGood, accountant: name, evaluations };
    bad = Math.min(limit, Math.ceil(bad * factor));
    eps = epsilonAt(bad);
  }
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    eps = epsilonAt(mid);
    if (eps <= targetEpsilon) {
      good = mid;
      epsGood = eps;
    } else {
      bad = mid;
    }
  }
  return { steps: good, epsilon: epsGood, accountant: name, evaluations };
}
