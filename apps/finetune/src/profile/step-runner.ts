import * as tf from '@tensorflow/tfjs-core';
import type { NormModeOption } from '@clipwise/ghost-norm';
import { resolveGrouping, type Grouping } from '@clipwise/grouping';
import { withKernelProbe, type MeasuredStep } from '@clipwise/memory';
import { NonPrivateGradients, Optimizer, PrivateGradients, adamw, releaseAndStep, sgd } from '@clipwise/optim';
import type { BenchModel } from './bench-model';

export type BenchOptimizer = 'sgd' | 'adamw' | 'none';

let guardedUpdate = true;

/**
 * Whether a bench step enqueues its update before the release's read, guarded on the device (`releaseAndStep`'s
 * order, as training runs; default), or waits for the losses and norms first (`release`, then `step`).
 * null: the default. The bench's `--ab guarded-update` flips it.
 */
export function setGuardedUpdate(on: boolean | null): void {
  guardedUpdate = on ?? true;
}

/** Whether bench steps take the guarded update now (`setGuardedUpdate`). */
export function guardedUpdateOn(): boolean {
  return guardedUpdate;
}

export interface StepSetup {
  /** 'non-private', 'inference' (the forward pass alone), or a grouping spec ('all-layer', 'uniform:4', ...). */
  readonly configuration: string;
  readonly batchSize: number;
  readonly noiseMultiplier: number;
  readonly normMode?: NormModeOption;
}

export interface BenchStep {
  readonly run: MeasuredStep;
  /** The grouping of a private step, null for the non-private one. */
  readonly grouping: Grouping | null;
}

/**
 * One training step of `model` as bench and profile measure it: forward + backward with per-sample
 * norms and clipped sums (private) or plain sums (non-private), the release (noise, normalisation)
 * and the optimizer update (when given), each wrapped in its phase. Returns a released gradient to
 * synchronise on.
 */
export function makeBenchStep(model: BenchModel, s: StepSetup, optimizer: Optimizer | null): BenchStep {
  if (s.configuration === 'inference') {
    // the forward pass alone, no recording: the floor a training step is compared with
    const forward = model.lossAt(s.batchSize);
    return { grouping: null, run: async (probe) => withKernelProbe(probe, async () => probe.around('forward', forward)) };
  }
  const grouping = s.configuration === 'non-private' ? null : resolveGrouping(s.configuration, model.params, { clipNorm: 1 });
  const source = grouping
    ? new PrivateGradients({
        params: model.params,
        grouping,
        noiseMultiplier: s.noiseMultiplier,
        expectedBatchSize: s.batchSize,
        normMode: s.normMode,
        seed: 1,
      })
    : new NonPrivateGradients(model.params);
  const loss = model.lossAt(s.batchSize);
  return {
    grouping,
    run: async (probe) => {
      await withKernelProbe(probe, () => probe.around('backward', () => source.accumulate(() => probe.around('forward', loss))));
      if (guardedUpdate && optimizer) {
        // as training steps, each part in its phase (the measurement then syncs on a kernel of its own)
        await releaseAndStep(source, optimizer, { around: (part, run) => probe.around(part === 'release' ? 'noise' : 'update', run) });
        return;
      }
      const { grads } = await probe.around('noise', () => source.release());
      if (optimizer) probe.around('update', () => optimizer.step(grads));
      const all = [...grads.values()];
      tf.dispose(all.slice(0, -1));
      return all[all.length - 1];
    },
  };
}

/**
 * The optimizer the steps share (its state is independent of how gradients were made, so one
 * serves every configuration). A tiny learning rate keeps the weights where they are over the
 * repeated steps. Null for 'none'.
 */
export function makeBenchOptimizer(model: BenchModel, kind: BenchOptimizer): Optimizer | null {
  if (kind === 'none') return null;
  return new Optimizer(kind === 'sgd' ? sgd({ learningRate: 1e-9 }) : adamw({ learningRate: 1e-9 }), model.params);
}
