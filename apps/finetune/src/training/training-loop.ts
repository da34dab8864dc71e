import * as tf from '@tensorflow/tfjs-core';
import type { PrivacyAccountant } from '@clipwise/accountant';
import type { PoissonSampler } from '@clipwise/data';
import type { GroupStepStats, NonPrivateGradients, Optimizer, PrivateGradients } from '@clipwise/optim';

export interface StepReport {
  readonly step: number;
  /** Mean per-sample loss over the realised batch (NaN for an empty batch). */
  readonly loss: number;
  readonly batchSize: number;
  readonly groups: readonly GroupStepStats[];
  /** ε spent so far (null without an accountant: non-private runs). */
  readonly epsilon: number | null;
  readonly stepMs: number;
}

export interface TrainingLoopOptions {
  readonly sampler: PoissonSampler;
  /** Per-sample losses [B] of the examples at these indices (built inside the step's forward). */
  readonly perSampleLoss: (indices: Int32Array) => tf.Tensor;
  readonly gradients: PrivateGradients | NonPrivateGradients;
  readonly optimizer: Optimizer;
  readonly steps: number;
  /** Largest micro-batch held in memory at once; the logical batch is accumulated across them. */
  readonly maxPhysicalBatch: number;
  /** For private runs: stepped with (σ, q) after every step, including empty ones. */
  readonly accountant?: { accountant: PrivacyAccountant; noiseMultiplier: number; delta: number };
  readonly onStep?: (report: StepReport) => void;
}

/**
 * Private (or baseline) training with Poisson sampling: each step draws a Poisson batch, runs it in
 * micro-batches, releases one noisy gradient, updates, and charges the accountant. An empty batch
 * still takes a (pure-noise) step: skipping it would break the analysis the accountant assumes.
 */
export async function runTrainingLoop(o: TrainingLoopOptions): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  for (let s = 0; s < o.steps; s++) {
    const t0 = performance.now();
    const batch = o.sampler.nextBatch();
    let lossSum = 0;
    for (const micro of o.sampler.physicalBatches(batch, o.maxPhysicalBatch)) {
      lossSum += (await o.gradients.accumulate(() => o.perSampleLoss(micro))).lossSum;
    }
    const released = await o.gradients.release();
    o.optimizer.step(released.grads);
    tf.dispose([...released.grads.values()]);
    let epsilon: number | null = null;
    if (o.accountant) {
      o.accountant.accountant.step(o.accountant.noiseMultiplier, o.sampler.sampleRate, 1);
      epsilon = o.accountant.accountant.epsilon(o.accountant.delta);
    }
    const report: StepReport = {
      step: s + 1,
      loss: batch.length > 0 ? lossSum / batch.length : Number.NaN,
      batchSize: batch.length,
      groups: 'groups' in released ? released.groups : [],
      epsilon,
      stepMs: performance.now() - t0,
    };
    reports.push(report);
    o.onStep?.(report);
  }
  return reports;
}
