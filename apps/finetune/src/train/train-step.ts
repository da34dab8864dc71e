import * as tf from '@tensorflow/tfjs-core';
import type { PrivacyAccountant } from '@clipwise/accountant';
import type { BatchSampler } from '@clipwise/data';
import { releaseAndStep, type NonPrivateGradients, type Optimizer, type PrivateGradients, type ReleasedGradients } from '@clipwise/optim';

/** What one training step needs; built once per run (`build-training.ts`) and reused every step. */
export interface TrainStepParts {
  readonly sampler: BatchSampler;
  readonly gradients: PrivateGradients | NonPrivateGradients;
  readonly optimizer: Optimizer;
  /**
   * Per-sample losses [B] of the examples at `indices` (built inside the step's forward), a
   * micro-batch of the step's `logical` batch (`perSampleLossFn` pads every micro-batch of a step alike).
   */
  readonly lossOf: (indices: Int32Array, logical: Int32Array) => tf.Tensor;
  /** Largest micro-batch held in memory at once; the logical batch is accumulated across them. */
  readonly maxPhysicalBatch: number;
  /** Private runs: charged with (σ, q) after every step, empty batches included. null: not private. */
  readonly accountant: { readonly accountant: PrivacyAccountant; readonly noiseMultiplier: number } | null;
}

/** What a step did; its gradients are already applied and freed. */
export interface TrainStepResult {
  /** The logical batch's example indices (may be empty with Poisson sampling). */
  readonly indices: Int32Array;
  /** Sum of the per-sample losses over the logical batch. */
  readonly lossSum: number;
  /** The release's report without its gradients: per-group stats (and thresholds) for private runs. */
  readonly released: Omit<ReleasedGradients, 'grads' | 'lossSum'> | { readonly batchSize: number };
  readonly stepMs: number;
}

/**
 * One step of DP-SGD (Abadi et al. 2016) with Poisson sampling, as every clipwise command trains:
 * draw the logical batch, accumulate it in micro-batches (clipping happens inside the backward),
 * release one noisy gradient, update, charge the accountant. An empty Poisson batch still takes a
 * (pure-noise) step and is charged: skipping it would break the analysis the accountant assumes.
 *
 * @example
 * ```ts
 * const { indices, lossSum, released } = await takeTrainStep({ sampler, gradients, optimizer, lossOf, maxPhysicalBatch: 32, accountant: { accountant, noiseMultiplier: sigma } });
 * ```
 */
export async function takeTrainStep(p: TrainStepParts): Promise<TrainStepResult> {
  const t0 = performance.now();
  const indices = p.sampler.nextBatch();
  // accumulate only enqueues; the update is enqueued behind the release, guarded on the device, and the
  // step waits for the device once (the losses and norms of every micro-batch) while the update runs
  for (const micro of p.sampler.physicalBatches(indices, p.maxPhysicalBatch)) await p.gradients.accumulate(() => p.lossOf(micro, indices));
  const { lossSum, ...released } = await releaseAndStep<Omit<ReleasedGradients, 'grads'> | { batchSize: number; lossSum: number }>(p.gradients, p.optimizer);
  p.accountant?.accountant.step(p.accountant.noiseMultiplier, p.sampler.sampleRate);
  return { indices, lossSum, released, stepMs: performance.now() - t0 };
}
