import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError, scaleAll, disposeRecord, recordedBackward, type BackwardOptions, type LayerRecord, type ParamSpec } from '@clipwise/core';
import { getNormKernel } from '@clipwise/ghost-norm';
import { assertNoFrozenParams } from '../frozen-check';
import { PendingLosses, unreleasable } from './pending-losses';
import { addRecordSums } from './record-sums';
import type { MicroBatchResult } from './private-gradients';
import type { GuardedRelease } from './guarded-release';
import { settleRelease } from './settle-release';

/**
 * The non-private baseline on the same code path: the same recorded forward and memory-freeing
 * backward, but each record is summed (Σ_i g_i, no clip factors) and freed as soon as it arrives. The mean
 * over the realised batch is released. Used for `--no-dp` runs and as the reference of benchmarks.
 * As there, only `release` waits for the device (it reads the losses), and a non-finite loss discards
 * the logical batch.
 */
export class NonPrivateGradients {
  private readonly sums = new Map<string, tf.Tensor>();
  private readonly names: Set<string>;
  private samples = 0;
  private readonly losses = new PendingLosses();

  constructor(
    readonly params: readonly ParamSpec[],
    private readonly backwardOptions: BackwardOptions = {},
  ) {
    assertNoFrozenParams(params, 'NonPrivateGradients');
    this.names = new Set(params.map((p) => p.name));
  }

  async accumulate(perSampleLoss: () => tf.Tensor): Promise<MicroBatchResult> {
    let batchSize = 0;
    const onRecord = (record: LayerRecord) => {
      try {
        const roles = Object.entries(record.params).filter(([, p]) => this.names.has(p.name)).map(([r]) => r);
        if (roles.length === 0) return;
        // null clip factors: the plain Σ_i g_i, without a multiply by ones
        addRecordSums(getNormKernel(record.kind), record, null, roles, this.sums);
      } finally {
        disposeRecord(record);
      }
    };
    const { loss } = recordedBackward(
      () => {
        const l = perSampleLoss();
        if (l.rank !== 1 || l.shape[0] === 0) throw new ClipwiseConfigError(`perSampleLoss must return [B] with B > 0, got [${l.shape}]`);
        batchSize = l.shape[0]!;
        return tf.sum(l) as tf.Scalar;
      },
      { onRecord },
      this.backwardOptions,
    );
    this.samples += batchSize;
    return { lossSum: this.losses.add(loss), batchSize };
  }

  /** Mean gradient over the samples accumulated since the last release, and their loss sum. */
  async release(): Promise<NonPrivateRelease> {
    return settleRelease(this.start(false));
  }

  /**
   * `release` without waiting for the device: the means at once, a guard for `Optimizer.step(grads, { guard })`
   * (1 when every loss is finite), and the report as a promise (see `PrivateGradients.releaseGuarded`,
   * `releaseAndStep`).
   */
  releaseGuarded(): GuardedRelease<Omit<NonPrivateRelease, 'grads'>> {
    return this.start(true) as GuardedRelease<Omit<NonPrivateRelease, 'grads'>>;
  }

  private start(guarded: boolean): { grads: Map<string, tf.Tensor>; guard: tf.Scalar | null; report: Promise<Omit<NonPrivateRelease, 'grads'>> } {
    const n = Math.max(this.samples, 1);
    const guard = guarded ? this.losses.guard() : null;
    // sums → means in place where the backend can (one launch for 8 parameters on webgpu)
    // a parameter with no sum (an empty Poisson batch) gets zeros made on the device: tf.zeros uploads a host array
    const sums = this.params.map((p) => this.sums.get(p.name) ?? tf.fill(p.shape as number[], 0));
    const means = scaleAll(sums, 1 / n);
    const grads = new Map(this.params.map((p, k) => [p.name, means[k]!]));
    this.sums.clear();
    const batchSize = this.samples;
    this.samples = 0;
    const report = this.losses.settle().then((losses) => {
      const refused = unreleasable(losses);
      if (refused) throw refused;
      return { batchSize, lossSum: losses.reduce((a, b) => a + b, 0) };
    });
    return { grads, guard, report };
  }
}

/** What `NonPrivateGradients.release` returns. */
export interface NonPrivateRelease {
  readonly grads: Map<string, tf.Tensor>;
  readonly batchSize: number;
  readonly lossSum: number;
}
