import { ClipwiseAccountantError, accountantFromLedger, calibrateNoise, createAccountant, gradientNoiseMultiplier, type PrivacyAccountant } from '@clipwise/accountant';
import type { ParamSpec } from '@clipwise/core';
import { PoissonSampler, ShuffleSampler, type BatchSampler } from '@clipwise/data';
import { ClipwiseGroupingError, resolveGrouping, resolveThresholdPolicy, type Grouping, type ResolvedThresholdPolicy } from '@clipwise/grouping';
import {
  NonPrivateGradients, Optimizer, PrivateGradients, adam, adamw, constantSchedule, cosineDecaySchedule, sgd, warmupConstantSchedule,
  warmupCosineSchedule, type Schedule,
} from '@clipwise/optim';
import { currentProgress } from '../progress/progress';
import { UsageError } from '../usage-error';
import type { CheckpointParts } from './checkpoint';
import { restoring } from './read-checkpoint';
import type { TrainConfig } from './train-config';

export function buildGrouping(config: TrainConfig, params: readonly ParamSpec[]): Grouping {
  try {
    return resolveGrouping(config.grouping, params, { clipNorm: config['clip-norm'] });
  } catch (e) {
    if (e instanceof ClipwiseGroupingError) throw new UsageError(`--grouping '${config.grouping}': ${e.message}`);
    throw e;
  }
}

/** σ: --noise-multiplier as given, else the smallest σ whose ε after the planned steps is within --epsilon. */
export function noiseMultiplierFor(config: TrainConfig, sampleRate: number, steps: number): number | null {
  if (config['no-dp']) return null;
  if (config['noise-multiplier'] !== undefined) return config['noise-multiplier'];
  const progress = currentProgress();
  try {
    return calibrateNoise({
      targetEpsilon: config.epsilon!, delta: config.delta, sampleRate, steps, accountant: config.accountant, accountantOptions: { sampling: config.sampling },
      // a PRV evaluation over many steps takes about half a second
      onEvaluation: (e) => progress.update(`calibrating σ (${config.accountant} accountant), evaluation`, e.evaluations),
    }).noiseMultiplier;
  } catch (e) {
    if (e instanceof ClipwiseAccountantError) throw new UsageError(`--epsilon ${config.epsilon}: ${e.message}`);
    throw e;
  } finally {
    progress.end();
  }
}

export function buildSampler(config: TrainConfig, n: number, resumed?: CheckpointParts): BatchSampler {
  if (resumed) return resumed.sampler.sampling === 'poisson' ? PoissonSampler.fromJSON(resumed.sampler) : ShuffleSampler.fromJSON(resumed.sampler);
  const seed = config.seed + 2;
  return config.sampling === 'poisson'
    ? new PoissonSampler({ datasetSize: n, sampleRate: config['batch-size'] / n, seed })
    : new ShuffleSampler({ datasetSize: n, batchSize: config['batch-size'], seed, dropLast: true });
}

export function buildAccountant(config: TrainConfig, resumed?: CheckpointParts): PrivacyAccountant | null {
  if (config['no-dp']) return null;
  if (resumed) {
    // readCheckpoint requires the ledger of a private run: a resume never starts from an empty one.
    if (!resumed.ledger) throw new Error('internal: a private checkpoint without a ledger was read');
    return restoring(config.out, 'ledger.json', () => accountantFromLedger(resumed.ledger));
  }
  return createAccountant(config.accountant, { sampling: config.sampling });
}

/** The threshold policy of --thresholds (fixed unless adaptive), defaults filled in for this grouping and batch. */
function thresholdPolicyFor(config: TrainConfig, grouping: Grouping, expectedBatchSize: number): ResolvedThresholdPolicy {
  if (config.thresholds !== 'adaptive') return { kind: 'fixed' };
  try {
    return resolveThresholdPolicy(
      {
        kind: 'adaptive', targetQuantile: config['target-quantile'] ?? 0.5, learningRate: config['threshold-lr'] ?? 0.2,
        ...(config['count-noise'] !== undefined ? { countNoise: config['count-noise'] } : {}),
      },
      { groupCount: grouping.groups.length, expectedBatchSize },
    );
  } catch (e) {
    if (e instanceof ClipwiseGroupingError) throw new UsageError(`--thresholds adaptive: ${e.message}`);
    throw e;
  }
}

/**
 * The gradient's noise multiplier for a step whose whole noise multiplier (what the accountant is
 * given) is `sigmaEff`: σ_eff itself with fixed thresholds; with adaptive ones the count release takes
 * part of the budget, so σ = (σ_eff^-2 − (Δ_b/σ_b)²)^(-1/2) (Andrew et al. 2021, Theorem 1).
 */
function gradientSigmaFor(policy: ResolvedThresholdPolicy, sigmaEff: number, countNoiseGiven = true): number {
  if (policy.kind !== 'adaptive') return sigmaEff;
  try {
    return gradientNoiseMultiplier({ effectiveNoiseMultiplier: sigmaEff, countNoise: policy.countNoise, countSensitivity: policy.countSensitivity });
  } catch (e) {
    if (e instanceof ClipwiseAccountantError) {
      throw new UsageError(
        `--count-noise ${policy.countNoise}${countNoiseGiven ? '' : ' (the default sqrt(M)·B/20)'}: the step's noise multiplier σ_eff = ${sigmaEff.toPrecision(6)} (from --epsilon or ` +
          `--noise-multiplier) is not achievable with adaptive thresholds: ${e.message}`,
      );
    }
    throw e;
  }
}

/**
 * The step's gradients. `sigma` is the step's whole noise multiplier σ_eff, the one the accountant is
 * given; with adaptive thresholds the gradient gets the larger σ of `gradientSigmaFor`.
 */
export function buildGradients(
  config: TrainConfig, params: readonly ParamSpec[], grouping: Grouping, sigma: number | null, expectedBatchSize: number, resumed?: CheckpointParts,
): PrivateGradients | NonPrivateGradients {
  if (sigma === null) return new NonPrivateGradients(params);
  const policy = thresholdPolicyFor(config, grouping, expectedBatchSize);
  const noiseMultiplier = gradientSigmaFor(policy, sigma, config['count-noise'] !== undefined);
  const build = () => new PrivateGradients({
    params, grouping, noiseMultiplier, expectedBatchSize, seed: config.seed + 1,
    clipping: config.clipping === 'abadi' ? { fn: 'abadi' } : { fn: 'automatic', gamma: 0.01 },
    ...(resumed?.noise ? { noiseState: resumed.noise.noise } : {}),
    ...(policy.kind === 'adaptive' ? { thresholdPolicy: policy, ...(resumed?.noise?.thresholds ? { thresholdState: resumed.noise.thresholds } : {}) } : {}),
  });
  const gradients = resumed ? restoring(config.out, 'noise.json', build) : build();
  // The step's own account of its privacy must be what the accountant will be told.
  if (Math.abs(gradients.effectiveNoiseMultiplier / sigma - 1) > 1e-9) {
    throw new Error(`internal: the step's noise multiplier ${gradients.effectiveNoiseMultiplier} differs from the accounted σ = ${sigma}`);
  }
  return gradients;
}

function schedule(config: TrainConfig, totalSteps: number): Schedule {
  const { lr, warmup } = config;
  if (warmup >= totalSteps && config.schedule !== 'constant') throw new UsageError(`--warmup ${warmup} must be smaller than the ${totalSteps} planned steps`);
  switch (config.schedule) {
    case 'constant':
      return warmup > 0 ? warmupConstantSchedule(lr, warmup) : constantSchedule(lr);
    case 'cosine':
      return warmup > 0 ? warmupCosineSchedule(lr, warmup, totalSteps) : cosineDecaySchedule(lr, totalSteps);
    case 'warmup-cosine':
      return warmupCosineSchedule(lr, warmup, totalSteps);
  }
}

export function buildOptimizer(config: TrainConfig, params: readonly ParamSpec[], totalSteps: number, resumed?: CheckpointParts): Optimizer {
  if (config['weight-decay'] > 0 && config.optimizer !== 'adamw') throw new UsageError(`--weight-decay applies to --optimizer adamw only (got --optimizer ${config.optimizer})`);
  const learningRate = schedule(config, totalSteps);
  const transform =
    config.optimizer === 'sgd' ? sgd({ learningRate }) : config.optimizer === 'adam' ? adam({ learningRate }) : adamw({ learningRate, weightDecay: config['weight-decay'] });
  const opt = new Optimizer(transform, params);
  if (resumed) restoring(config.out, 'optimizer.json', () => opt.loadState(resumed.optimizer));
  return opt;
}
