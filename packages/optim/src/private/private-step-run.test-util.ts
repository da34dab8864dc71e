import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { PrivateGradients } from './private-gradients';
import type { ClippingConfig } from './clipping';
import { expect } from 'vitest';
import { expectSameValues } from './expect-same-values.test-util';

/** A model for one private step: its parameters, its per-sample loss, and how to free it. */
export interface StepModel {
  readonly params: readonly ParamSpec[];
  loss(): tf.Tensor1D;
  dispose(): void;
}

/**
 * One private step (σ = 0) of `grouping` on a fresh model with expected batch `batch` (thresholds per
 * group, or the grouping's default 1): its released gradients' values by name, its groups' statistics and the kernels its
 * backward ran (`tf.profile`). Frees the model.
 */
export async function runPrivateStep(model: StepModel, batch: number, grouping: 'layer-wise' | 'param-wise', clipping: ClippingConfig, thresholds?: number[]) {
  const probe = resolveGrouping(grouping, model.params as ParamSpec[], { clipNorm: 1 });
  const pg = new PrivateGradients({ params: model.params as ParamSpec[], grouping: thresholds ? probe.withThresholds(thresholds) : probe, noiseMultiplier: 0, expectedBatchSize: batch, clipping, seed: 1 });
  const profile = await tf.profile(async () => void (await pg.accumulate(() => model.loss())));
  const { grads, groups } = await pg.release();
  const values = new Map(await Promise.all([...grads].map(async ([n, g]) => [n, await g.data()] as const)));
  tf.dispose([...grads.values()]);
  model.dispose();
  return { values, groups, kernels: profile.kernels.map((k) => k.name) };
}

export type PrivateStepRun = Awaited<ReturnType<typeof runPrivateStep>>;

/** The same sums up to float32 rounding and the same group statistics; some samples clipped and some not (the factors matter). */
export function expectSameStep(fast: PrivateStepRun, slow: PrivateStepRun): void {
  expectSameValues(fast.values, slow.values);
  expect(fast.groups.some((g) => g.clipFraction > 0 && g.clipFraction < 1)).toBe(true);
  fast.groups.forEach((g, m) => {
    const s = slow.groups[m]!;
    expect(g.clipFraction).toBe(s.clipFraction);
    expect(g.medianNorm).toBeCloseTo(s.medianNorm, 5);
    expect(g.maxNorm).toBeCloseTo(s.maxNorm, 5);
  });
}
