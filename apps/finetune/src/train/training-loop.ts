import type * as tf from '@tensorflow/tfjs-core';
import type { PrivacyAccountant } from '@clipwise/accountant';
import type { BatchSampler } from '@clipwise/data';
import type { GroupStepStats, NonPrivateGradients, Optimizer, PrivateGradients } from '@clipwise/optim';
import { takeTrainStep } from './train-step';

export interface StepReport {
  readonly step: number;
  /** Mean per-sample loss over the realised batch (NaN for an empty batch). */
  readonly loss: number;
  readonly batchSize: number;
  readonly groups: readonly GroupStepStats[];
  readonly stepMs: number;
}

export interface TrainingLoopOptions {
  readonly sampler: BatchSampler;
  /** Per-sample losses [B] of the examples at these indices (built inside the step's forward). */
  readonly perSampleLoss: (indices: Int32Array, logical: Int32Array) => tf.Tensor;
  readonly gradients: PrivateGradients | NonPrivateGradients;
  readonly optimizer: Optimizer;
  readonly steps: number;
  /** Largest micro-batch held in memory at once; the logical batch is accumulated across them. */
  readonly maxPhysicalBatch: number;
  /** For private runs: stepped with (σ, q) after every step, including empty ones; ask it for ε after the loop. */
  readonly accountant?: { accountant: PrivacyAccountant; noiseMultiplier: number };
  readonly onStep?: (report: StepReport) => void;
}

/**
 * A fixed number of training steps in memory, for code that brings its own model and loss (the
 * audit's canary classifier): no files, evaluation or checkpoints. Each step is `takeTrainStep`,
 * the same step `clipwise train` takes; use `runTrain` for everything else.
 *
 * @example
 * ```ts
 * const reports = await runTrainingLoop({ sampler, perSampleLoss, gradients, optimizer, steps: 100, maxPhysicalBatch: 256 });
 * ```
 */
export async function runTrainingLoop(o: TrainingLoopOptions): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  for (let s = 0; s < o.steps; s++) {
    const r = await takeTrainStep({ sampler: o.sampler, gradients: o.gradients, optimizer: o.optimizer, lossOf: o.perSampleLoss, maxPhysicalBatch: o.maxPhysicalBatch, accountant: o.accountant ?? null });
    const report: StepReport = {
      step: s + 1,
      loss: r.indices.length > 0 ? r.lossSum / r.indices.length : Number.NaN,
      batchSize: r.indices.length,
      groups: 'groups' in r.released ? r.released.groups : [],
      stepMs: r.stepMs,
    };
    reports.push(report);
    o.onStep?.(report);
  }
  return reports;
}
