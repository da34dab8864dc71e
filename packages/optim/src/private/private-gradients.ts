import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError, scaleAll, readAll, recordedBackward, submitQueued, type BackwardOptions, type ParamSpec } from '@clipwise/core';
import type { NormModeOption } from '@clipwise/ghost-norm';
import { resolveThresholdPolicy, type Grouping, type ResolvedThresholdPolicy, type ThresholdPolicy } from '@clipwise/grouping';
import { AdaptiveThresholds, type AdaptiveThresholdsState, type ThresholdRelease } from './adaptive-thresholds';
import { ClipwiseOptimError } from '../errors';
import { assertNoFrozenParams } from '../frozen-check';
import { validateClipping, type ClippingConfig } from './clipping';
import { GroupClipper, disposeStats, type GroupMicroStats, type ModeReport } from './group-clipper';
import { NoiseSource, type NoiseSourceState } from './noise-source';
import { NoisyClipCounts, type NoisyClipCountsState } from './noisy-clip-counts';
import { PendingLosses, unreleasable } from './pending-losses';
import type { GuardedRelease } from './guarded-release';
import { settleRelease } from './settle-release';

export interface PrivateGradientsOptions {
  /** Every trainable parameter (`collectParams(layers)`). */
  readonly params: readonly ParamSpec[];
  /** Which parameters are clipped together, and each group's threshold C_m. */
  readonly grouping: Grouping;
  /**
   * Noise multiplier σ of the gradient: the noise std is σ·S, S = sqrt(Σ_m C_m²). 0 turns noise off
   * (not private). With adaptive thresholds the accountant must be given `effectiveNoiseMultiplier`,
   * not this σ (the count release spends privacy too).
   */
  readonly noiseMultiplier: number;
  /**
   * Expected logical batch size q·N. The noisy sum is divided by it, never by the realised size
   * (with Poisson sampling the realised size is itself private).
   */
  readonly expectedBatchSize: number;
  /** Default abadi. */
  readonly clipping?: ClippingConfig;
  /** Default 'auto' (mixed ghost clipping). */
  readonly normMode?: NormModeOption;
  /** Seed of the noise stream. */
  readonly seed: number;
  /** Restores a noise stream saved by `toJSON()`. */
  readonly noiseState?: NoiseSourceState;
  /**
   * How thresholds evolve: fixed (default) or adaptive per-group quantiles (abadi clipping only).
   * `grouping`'s thresholds are the adaptive policy's step-0 values unless it sets `initialThreshold`.
   */
  readonly thresholdPolicy?: ThresholdPolicy;
  /** Restores adaptive thresholds saved by `toJSON()`. */
  readonly thresholdState?: AdaptiveThresholdsState;
  /**
   * Private diagnostics with fixed thresholds: σ_c > 0 (in samples) releases each group's clip
   * fraction every step as a noisy centred count (`NoisyClipCounts`), composed into
   * `effectiveNoiseMultiplier`. Not with adaptive thresholds: their released counts already give the
   * clip fractions, at no further cost.
   */
  readonly clipCountNoise?: number;
  /** Restores the clip-count noise stream saved by `toJSON()`. */
  readonly clipCountState?: NoisyClipCountsState;
  readonly backward?: BackwardOptions;
}

/** What one micro-batch's forward/backward reports. */
export interface MicroBatchResult {
  /**
   * Σ_i ℓ_i over the micro-batch, resolved when the device has computed it. `accumulate` does not
   * wait for it (waiting would drain the GPU between micro-batches); `release` checks it is finite and
   * reports the logical batch's total as `lossSum`.
   */
  readonly lossSum: Promise<number>;
  readonly batchSize: number;
}

/**
 * Per-group statistics of a released step, computed from the batch's per-sample norms WITHOUT noise:
 * they are not covered by the (ε, δ) guarantee (local diagnostics only; `noisyClipFractions` of
 * `ReleasedGradients` are the private ones).
 */
export interface GroupStepStats {
  readonly group: string;
  readonly threshold: number;
  /** Fraction of samples whose group norm exceeded the threshold (clipped, for abadi). */
  readonly clipFraction: number;
  readonly medianNorm: number;
  readonly maxNorm: number;
  /**
   * How many layer records the backward pass had delivered when this group closed (last
   * micro-batch): layer-wise groups close early, all-layer clipping at the last record.
   */
  readonly closedAfterRecords: number;
}

export interface ReleasedGradients {
  /** Private gradient per parameter name: (Σ_i c_i g_i + σ S ξ) / expectedBatchSize. Caller disposes. */
  readonly grads: Map<string, tf.Tensor>;
  readonly groups: GroupStepStats[];
  /** Samples in the logical batch (realised). */
  readonly batchSize: number;
  /** Σ_i ℓ_i over the logical batch (every micro-batch's loss, each checked to be finite). */
  readonly lossSum: number;
  /** Norm mode per parameter (mixed ghost clipping). */
  readonly modes: ModeReport;
  /** With adaptive thresholds: the thresholds used, the released noisy unclipped fractions, the next thresholds. */
  readonly thresholds?: ThresholdRelease;
  /**
   * Per group, the released noisy clip fraction (private): `1 − b̃_m` with adaptive thresholds, the
   * `clipCountNoise` release otherwise; absent when neither is on.
   */
  readonly noisyClipFractions?: number[];
}

/** What a release reports besides its gradients (`releaseGuarded`'s `report`). */
export type ReleaseReport = Omit<ReleasedGradients, 'grads'>;

/** One Gaussian release of a step: what the accountant composes (`σ_eff^-2 = Σ noiseMultiplier^-2`). */
export interface PrivateRelease {
  /** 'gradient', 'threshold-counts' (adaptive thresholds) or 'clip-counts' (private diagnostics). */
  readonly quantity: 'gradient' | 'threshold-counts' | 'clip-counts';
  /** L2 sensitivity: S = sqrt(Σ_m C_m²) of the current thresholds for the gradient, sqrt(M)/2 for counts. */
  readonly sensitivity: number;
  /** Standard deviation of the Gaussian noise added to each coordinate. */
  readonly noiseStd: number;
  /** noiseStd / sensitivity. */
  readonly noiseMultiplier: number;
}

/** Serialisable state of `PrivateGradients`, for checkpoints. */
export interface PrivateGradientsState {
  readonly noise: NoiseSourceState;
  /** Present with adaptive thresholds. */
  readonly thresholds?: AdaptiveThresholdsState;
  /** Present with `clipCountNoise`. */
  readonly clipCounts?: NoisyClipCountsState;
}

/**
 * The private gradient of one logical batch, built from micro-batches (gradient accumulation is
 * exact: clipping is per sample). `accumulate` runs forward + backward; the per-sample clipping
 * happens during backward, group by group (see `GroupClipper`). `release` adds the Gaussian noise
 * once per logical batch and normalises.
 *
 * Both calls are async, and only `release` waits for the device: it reads the micro-batches' losses and
 * the per-sample norms together, with `data()` (never a synchronous read, which the webgpu backend
 * cannot do in Node), after its noise is enqueued. So a step drains the GPU queue once, not once per
 * micro-batch. A non-finite loss discards the logical batch: `release` throws and nothing is released.
 *
 * With an adaptive threshold policy, `release` also releases each group's noisy unclipped count and
 * updates the thresholds for the next step (`AdaptiveThresholds`); the step's privacy is then that of
 * `effectiveNoiseMultiplier`, the value to give the accountant.
 *
 * @example
 * const pg = new PrivateGradients({ params, grouping, noiseMultiplier: 1.0, expectedBatchSize: 64, seed: 1 });
 * await pg.accumulate(() => model.perSampleLoss(batch)); // [B] per-sample losses
 * const { grads, groups } = await pg.release();
 * accountant.step(pg.effectiveNoiseMultiplier, 64 / datasetSize);
 */
export class PrivateGradients {
  private readonly clipper: GroupClipper;
  private readonly noise: NoiseSource;
  /** The resolved threshold policy (defaults filled in). */
  readonly thresholdPolicy: ResolvedThresholdPolicy;
  private readonly adaptive: AdaptiveThresholds | null;
  private readonly clipCounts: NoisyClipCounts | null;
  private samples = 0;
  private readonly losses = new PendingLosses();

  constructor(readonly options: PrivateGradientsOptions) {
    const { noiseMultiplier, expectedBatchSize, params } = options;
    if (!(noiseMultiplier >= 0) || !Number.isFinite(noiseMultiplier)) {
      throw new ClipwiseOptimError(`noiseMultiplier must be a finite number ≥ 0, got ${noiseMultiplier}`);
    }
    if (!(expectedBatchSize > 0) || !Number.isFinite(expectedBatchSize)) {
      throw new ClipwiseOptimError(`expectedBatchSize must be > 0 (q·N), got ${expectedBatchSize}`);
    }
    if (params.length === 0) throw new ClipwiseOptimError('params is empty: pass collectParams(layers)');
    assertNoFrozenParams(params, 'PrivateGradients');
    for (const t of options.grouping.thresholds) {
      if (!(t > 0) || !Number.isFinite(t)) throw new ClipwiseOptimError(`every group threshold must be > 0, got ${t}`);
    }
    const clipping = validateClipping(options.clipping ?? { fn: 'abadi' });
    try {
      this.thresholdPolicy = resolveThresholdPolicy(options.thresholdPolicy, { groupCount: options.grouping.groups.length, expectedBatchSize });
    } catch (e) {
      throw new ClipwiseOptimError((e as Error).message);
    }
    if (this.thresholdPolicy.kind === 'adaptive' && clipping.fn !== 'abadi') {
      throw new ClipwiseOptimError(
        `adaptive thresholds need abadi clipping, got '${clipping.fn}': automatic clipping rescales every sample, so its ` +
          'threshold only scales the learning rate and has no quantile to track. Use { fn: \'abadi\' } or fixed thresholds.',
      );
    }
    if (this.thresholdPolicy.kind !== 'adaptive' && options.thresholdState) {
      throw new ClipwiseOptimError('thresholdState was given but the threshold policy is fixed; pass the adaptive policy it was saved with.');
    }
    this.adaptive =
      this.thresholdPolicy.kind === 'adaptive' ? new AdaptiveThresholds(this.thresholdPolicy, options.grouping, options.seed, options.thresholdState) : null;
    if (options.clipCountNoise !== undefined && this.adaptive) {
      throw new ClipwiseOptimError(
        'clipCountNoise was given with adaptive thresholds, whose released counts already give the clip fractions (1 − b̃_m); drop clipCountNoise.',
      );
    }
    if (options.clipCountNoise === undefined && options.clipCountState) {
      throw new ClipwiseOptimError('clipCountState was given without clipCountNoise; pass the clipCountNoise it was saved with.');
    }
    this.clipCounts =
      options.clipCountNoise !== undefined
        ? new NoisyClipCounts(options.grouping.groups.map((g) => g.name), options.clipCountNoise, expectedBatchSize, options.seed, options.clipCountState)
        : null;
    this.clipper = new GroupClipper(params, this.grouping, options.clipping ?? { fn: 'abadi' }, options.normMode);
    this.noise = options.noiseState ? NoiseSource.fromJSON(options.noiseState) : new NoiseSource(options.seed);
  }

  /**
   * Forward + backward of one micro-batch. `perSampleLoss` must return the loss of each sample
   * ([B]), not their mean: the gradient of Σ_i ℓ_i is what the clipping splits per sample. Resolves
   * once the work is enqueued, without waiting for the device (see `MicroBatchResult.lossSum`).
   */
  async accumulate(perSampleLoss: () => tf.Tensor): Promise<MicroBatchResult> {
    let batchSize = -1;
    this.clipper.begin();
    let loss: tf.Scalar;
    try {
      ({ loss } = recordedBackward(
        () => {
          const l = perSampleLoss();
          if (l.rank !== 1) {
            throw new ClipwiseConfigError(`perSampleLoss must return one loss per sample ([B]), got shape [${l.shape}]`);
          }
          batchSize = l.shape[0]!;
          if (batchSize === 0) throw new ClipwiseConfigError('empty micro-batch: skip it (call release() alone for an empty Poisson batch)');
          return tf.sum(l) as tf.Scalar;
        },
        this.clipper,
        this.options.backward,
      ));
      this.clipper.end();
    } catch (e) {
      // the clipper drops the whole logical batch so far: so do the counts
      this.clipper.reset();
      this.samples = 0;
      this.losses.clear();
      throw e;
    }
    this.samples += batchSize;
    return { lossSum: this.losses.add(loss), batchSize };
  }

  /** The grouping with the thresholds of the next step (they move with an adaptive policy). */
  get grouping(): Grouping {
    return this.adaptive?.grouping ?? this.options.grouping;
  }

  /**
   * The noise multiplier of the whole step, for the accountant: σ with fixed thresholds; with adaptive
   * ones the gradient and the count release together are one Gaussian mechanism,
   * `σ_eff = (σ^-2 + (σ_b/Δ_b)^-2)^(-1/2)` with `Δ_b = sqrt(M)/2` (Andrew et al. 2021, Theorem 1).
   */
  get effectiveNoiseMultiplier(): number {
    const sigma = this.options.noiseMultiplier;
    const releases = this.releases;
    if (sigma === 0 || releases.length === 1) return sigma;
    return 1 / Math.sqrt(releases.reduce((mu2, r) => mu2 + r.noiseMultiplier ** -2, 0));
  }

  /**
   * Every Gaussian release of a step: the gradient, and the per-group counts of adaptive thresholds
   * or of private diagnostics (`clipCountNoise`). Together they are one Gaussian mechanism whose
   * noise multiplier is `effectiveNoiseMultiplier`.
   */
  get releases(): PrivateRelease[] {
    const sigma = this.options.noiseMultiplier;
    const s = this.grouping.sensitivity;
    const out: PrivateRelease[] = [{ quantity: 'gradient', sensitivity: s, noiseStd: sigma * s, noiseMultiplier: sigma }];
    const p = this.thresholdPolicy;
    if (p.kind === 'adaptive') out.push({ quantity: 'threshold-counts', sensitivity: p.countSensitivity, noiseStd: p.countNoise, noiseMultiplier: p.countNoiseMultiplier });
    const c = this.clipCounts;
    if (c) out.push({ quantity: 'clip-counts', sensitivity: c.sensitivity, noiseStd: c.countNoise, noiseMultiplier: c.noiseMultiplier });
    return out;
  }

  /** Adds σ·S·ξ to each parameter's clipped sum, divides by the expected batch size, and starts a new logical batch. */
  async release(): Promise<ReleasedGradients> {
    return settleRelease(this.start(false));
  }

  /**
   * `release` without waiting for the device: the gradients at once, with a `guard` on the device (1 when
   * every loss of the logical batch is finite, else 0) for `Optimizer.step(grads, { guard })`, and the
   * report as a promise that rejects where `release` would throw. So the update is enqueued right behind
   * the noise and the device does not idle while the host reads the norms and the losses (see
   * `releaseAndStep`, which also undoes the optimizer's counts of a refused batch). Await `report` before
   * the next `accumulate`: with adaptive thresholds it sets the next step's thresholds.
   *
   * @example
   * const { grads, guard, report } = pg.releaseGuarded();
   * opt.step(grads, { guard });
   * submitQueued(); // core's: the noise and the update run while the host waits below
   * tf.dispose([...grads.values(), guard]);
   * const { groups } = await report; // rejects for a non-finite loss: then call opt.discardLastStep()
   */
  releaseGuarded(): GuardedRelease<ReleaseReport> {
    return this.start(true) as GuardedRelease<ReleaseReport>;
  }

  private start(guarded: boolean): { grads: Map<string, tf.Tensor>; guard: tf.Scalar | null; report: Promise<ReleaseReport> } {
    const { noiseMultiplier, expectedBatchSize, params } = this.options;
    const grouping = this.grouping;
    const std = noiseMultiplier * grouping.sensitivity;
    // The norms' read starts first, so its copy queues right behind the backward; the noise is
    // enqueued after it and submitted at once, to run during the read's round trip rather than before it.
    const stats = this.clipper.takeStats();
    const summary = summarise(grouping, stats);
    summary.catch(() => undefined); // awaited in the report; never an unhandled rejection if the noise throws first
    const guard = guarded ? this.losses.guard() : null; // before settle, which hands the losses to their reads
    const losses = this.losses.settle();
    losses.catch(() => undefined);
    // the clipped sums are the clipper's: noise and 1/(qN) are applied to them in place where the backend can
    // a parameter with no sum (an empty Poisson batch) gets zeros made on the device: tf.zeros uploads a host array
    const sums = params.map((p) => this.clipper.sums.get(p.name) ?? tf.fill(p.shape as number[], 0));
    const released =
      std > 0
        ? this.noise.addToAll(sums, std, 1 / expectedBatchSize)
        : scaleAll(sums, 1 / expectedBatchSize);
    if (!guarded) submitQueued(); // guarded, the caller's update follows and is submitted with it
    const grads = new Map(params.map((p, k) => [p.name, released[k]!]));
    this.clipper.sums.clear();
    const batchSize = this.samples;
    this.samples = 0;
    return { grads, guard, report: this.finish(stats, summary, losses, batchSize) };
  }

  /** The release's report once the device has answered: the step's one wait for it. */
  private async finish(
    stats: GroupMicroStats[][],
    summary: ReturnType<typeof summarise>,
    settled: Promise<number[]>,
    batchSize: number,
  ): Promise<ReleaseReport> {
    let groups: GroupStepStats[];
    let clippedCounts: number[];
    let losses: number[];
    try {
      // the losses and the norms are read together
      [{ groups, clippedCounts }, losses] = await Promise.all([summary, settled]);
    } finally {
      disposeStats(stats); // a no-op where the read freed them already
    }
    const refused = unreleasable(losses);
    if (refused) throw refused;
    const lossSum = losses.reduce((a, b) => a + b, 0);
    let thresholds: ThresholdRelease | undefined;
    let noisyClipFractions: number[] | undefined;
    if (this.adaptive) {
      // Samples of a micro-batch that never used a group have norm 0 there: unclipped.
      thresholds = await this.adaptive.release(clippedCounts.map((c) => batchSize - c), batchSize);
      this.clipper.useGrouping(this.adaptive.grouping);
      noisyClipFractions = thresholds.unclippedFractions.map((b) => 1 - b);
    } else if (this.clipCounts) {
      noisyClipFractions = this.clipCounts.release(clippedCounts, batchSize);
    }
    return {
      groups, batchSize, lossSum, modes: { ...this.clipper.modes }, ...(thresholds ? { thresholds } : {}), ...(noisyClipFractions ? { noisyClipFractions } : {}),
    };
  }

  /** The noise streams' positions and the adaptive thresholds, for checkpoints. */
  toJSON(): PrivateGradientsState {
    return {
      noise: this.noise.toJSON(), ...(this.adaptive ? { thresholds: this.adaptive.toJSON() } : {}), ...(this.clipCounts ? { clipCounts: this.clipCounts.toJSON() } : {}),
    };
  }
}

async function summarise(grouping: Grouping, micro: readonly GroupMicroStats[][]): Promise<{ groups: GroupStepStats[]; clippedCounts: number[] }> {
  const values = await readNorms(micro);
  const clippedCounts: number[] = [];
  const groups = grouping.groups.map((g, m) => {
    const all = values.flatMap((s) => Array.from(s[m]!));
    const sorted = all.sort((a, b) => a - b);
    const clipped = sorted.filter((n) => n > g.threshold).length;
    clippedCounts.push(clipped);
    return {
      group: g.name,
      threshold: g.threshold,
      clipFraction: sorted.length ? clipped / sorted.length : 0,
      medianNorm: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : 0,
      maxNorm: sorted.length ? sorted[sorted.length - 1]! : 0,
      closedAfterRecords: micro.length ? micro[micro.length - 1]![m]!.closedAfterRecords : 0,
    };
  });
  return { groups, clippedCounts };
}

/**
 * Every group's norms of every micro-batch, by micro-batch and group (empty for an unused group), in one
 * device read. The norm tensors are freed as soon as the read has its own copy: the host's time after
 * the device answers delays the optimizer's update, and freeing 148 tensors there (param-wise GPT-2) was
 * part of it.
 */
async function readNorms(micro: readonly GroupMicroStats[][]): Promise<Float32Array[][]> {
  const values = await readAll(micro.flatMap((s) => s.flatMap((g) => (g.norms ? [g.norms] : []))), { dispose: true });
  let next = 0;
  return micro.map((s) => s.map((g) => (g.norms ? values[next++]! : new Float32Array(0))));
}
