import { ClipwiseAccountantError, accountantFromLedger, calibrateNoise, createAccountant, gradientNoiseMultiplier, type PrivacyAccountant } from '@clipwise/accountant';
import type { ParamSpec } from '@clipwise/core';
import { PoissonSampler, ShuffleSampler, type BatchSampler } from '@clipwise/data';
import { ClipwiseGroupingError, countSensitivity, resolveGrouping, resolveThresholdPolicy, type Grouping, type ResolvedThresholdPolicy } from '@clipwise/grouping';
import {
  NonPrivateGradients, Optimizer, PrivateGradients, adam, adamw, constantSchedule, cosineDecaySchedule, sgd, warmupConstantSchedule,
  warmupCosineSchedule, type Schedule,
} from '@clipwise/optim';
import { currentProgress } from '../progress/progress';
import { UsageError } from '../usage-error';
import type { CheckpointParts } from './checkpoint';
import { restoring } from './read-checkpoint';
import type { TrainConfig } from './train-config';
import { noiseSeed, samplerSeed } from './seed-streams';

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
  const seed = samplerSeed(config.seed);
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
 * With --diagnostics private and fixed thresholds, the clip counts' noise multiplier σ_c/Δ is this
 * many times the step's σ_eff unless --count-noise sets σ_c: the counts then take 1/25 of the step's
 * μ² = σ_eff^-2, so the gradient's σ is σ_eff/sqrt(1 − 1/25), 2% larger.
 */
const DIAGNOSTICS_NOISE_RATIO = 5;

/** A per-group count release that shares the step's budget with the gradient. */
interface CountRelease {
  /** σ_b (or σ_c): noise std on each group's count. */
  readonly countNoise: number;
  /** sqrt(M)/2. */
  readonly countSensitivity: number;
  /** How the user set it, for the error message. */
  readonly source: string;
}

/**
 * The step's count release: adaptive thresholds' counts (which also give the clip fractions), else
 * with --diagnostics private the clip counts (σ_c from --count-noise, else `DIAGNOSTICS_NOISE_RATIO`
 * times σ_eff per unit of sensitivity), else none.
 */
function countReleaseFor(config: TrainConfig, policy: ResolvedThresholdPolicy, grouping: Grouping, sigmaEff: number): CountRelease | null {
  const given = config['count-noise'] !== undefined;
  if (policy.kind === 'adaptive') {
    return { countNoise: policy.countNoise, countSensitivity: policy.countSensitivity, source: `--count-noise ${policy.countNoise}${given ? '' : ' (the default sqrt(M)·B/20)'}` };
  }
  if (config.diagnostics !== 'private') return null;
  const sensitivity = countSensitivity(grouping.groups.length);
  const countNoise = config['count-noise'] ?? DIAGNOSTICS_NOISE_RATIO * sigmaEff * sensitivity;
  return { countNoise, countSensitivity: sensitivity, source: `--diagnostics private --count-noise ${countNoise}` };
}

/**
 * The gradient's noise multiplier for a step whose whole noise multiplier (what the accountant is
 * given) is `sigmaEff`: σ_eff itself without count releases; with adaptive thresholds or private
 * diagnostics the counts take part of the budget, so σ = (σ_eff^-2 − (Δ_b/σ_b)²)^(-1/2) (Andrew et
 * al. 2021, Theorem 1).
 */
function gradientSigmaFor(counts: CountRelease | null, sigmaEff: number): number {
  if (!counts) return sigmaEff;
  try {
    return gradientNoiseMultiplier({ effectiveNoiseMultiplier: sigmaEff, countNoise: counts.countNoise, countSensitivity: counts.countSensitivity });
  } catch (e) {
    if (e instanceof ClipwiseAccountantError) {
      throw new UsageError(
        `${counts.source}: the step's noise multiplier σ_eff = ${sigmaEff.toPrecision(6)} (from --epsilon or ` +
          `--noise-multiplier) is not achievable with these counts: ${e.message}`,
      );
    }
    throw e;
  }
}

/**
 * The step's gradients. `sigma` is the step's whole noise multiplier σ_eff, the one the accountant is
 * given; with adaptive thresholds or private diagnostics the gradient gets the larger σ of `gradientSigmaFor`.
 */
export function buildGradients(
  config: TrainConfig, params: readonly ParamSpec[], grouping: Grouping, sigma: number | null, expectedBatchSize: number, resumed?: CheckpointParts,
): PrivateGradients | NonPrivateGradients {
  if (sigma === null) return new NonPrivateGradients(params);
  const policy = thresholdPolicyFor(config, grouping, expectedBatchSize);
  const counts = countReleaseFor(config, policy, grouping, sigma);
  const noiseMultiplier = gradientSigmaFor(counts, sigma);
  const clipCounts = counts && policy.kind !== 'adaptive' ? counts.countNoise : undefined;
  const build = () => new PrivateGradients({
    params, grouping, noiseMultiplier, expectedBatchSize, seed: noiseSeed(config.seed),
    clipping: config.clipping === 'abadi' ? { fn: 'abadi' } : { fn: 'automatic', gamma: 0.01 },
    ...(resumed?.noise ? { noiseState: resumed.noise.noise } : {}),
    ...(policy.kind === 'adaptive' ? { thresholdPolicy: policy, ...(resumed?.noise?.thresholds ? { thresholdState: resumed.noise.thresholds } : {}) } : {}),
    ...(clipCounts !== undefined ? { clipCountNoise: clipCounts, ...(resumed?.noise?.clipCounts ? { clipCountState: resumed.noise.clipCounts } : {}) } : {}),
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
  if (resumed) restoring(config.out, 'optimizer.json', () => opt.loadState(resumed.optimizer.structure, resumed.optimizer.tensors));
  return opt;
}
