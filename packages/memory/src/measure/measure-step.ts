import * as tf from '@tensorflow/tfjs-core';
import { resetGpuPoolPeaks } from '@clipwise/core';
import { ClipwiseMemoryError } from '../errors';
import { STEP_PHASES, type StepPhase } from '../phases';
import { syncDevice } from '@clipwise/core';
import { timeDeviceWaits } from './device-waits';
import { backendBufferBytes, type BackendBuffers } from './engine-profile';
import { timeGpuPasses, type GpuPassTimes } from './gpu-passes';
import { countHostWrites } from './host-writes';
import { summariseKernels, type KernelSummary } from './kernel-summary';
import { PhaseProbe, phasePeaks, phaseTimeline, type TimelinePoint } from './phase-probe';

/** A step to measure: wraps its parts in `probe.around(phase, ...)`; may return a tensor to synchronise on (then disposed). */
export type MeasuredStep = (probe: PhaseProbe) => Promise<tf.Tensor | void>;

export interface MeasureStepOptions {
  /** Unmeasured steps first (kernel compilation, buffer pools, lazily built state). Default 1. */
  readonly warmup?: number;
  /** Timed steps; the median is reported (0: none, time them yourself with `timeStep`). Default 3. */
  readonly reps?: number;
  /** Also run one step under `tf.profile` for the memory timeline. Default true. */
  readonly profile?: boolean;
}

export interface StepMeasurement {
  /** Median wall time of a step, device synchronised. */
  readonly stepMs: number;
  readonly stepMsAll: readonly number[];
  /** Median host share of the timed steps (`StepTime.hostMs`; NaN without timed steps). */
  readonly hostMs: number;
  /** Median time per phase (exclusive of nested phases; on webgpu, time to enqueue). */
  readonly phaseMs: Partial<Record<StepPhase, number>>;
  /** Peak engine bytes during the profiled step, above the bytes alive before it (weights, optimizer state). */
  readonly peakBytes: number;
  readonly phasePeakBytes: Partial<Record<StepPhase, number>>;
  /** Bytes after each kernel of the profiled step, with its phase. */
  readonly timeline: readonly TimelinePoint[];
  /** Bytes (above the pre-step level) when each layer record reached the kernels, backward order (needs `withKernelProbe`). */
  readonly arrivalBytes: readonly number[];
  /** Bytes left after the step that were not there before (should be 0). */
  readonly leakedBytes: number;
  /** The backend's own buffer statistics after the profiled step (webgpu; peaks over that step with core's size-class pool), else null. */
  readonly backendBuffers: BackendBuffers | null;
  /** Kernel launches and device time of the profiled step, null without `profile`. */
  readonly kernels: KernelSummary | null;
  /** Bytes of host arrays the profiled step uploaded (`countHostWrites`): null off webgpu or without `profile`. */
  readonly hostWriteBytes: number | null;
}

/**
 * The median of numbers (NaN for none).
 *
 * @example
 * median([3, 1, 2]); // 2
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function runOnce(step: MeasuredStep, probe: PhaseProbe): Promise<void> {
  const out = await step(probe);
  await syncDevice(out ?? undefined);
  out?.dispose();
}

/** Wall time of one step and of its phases. */
export interface StepTime {
  readonly stepMs: number;
  /**
   * The host's share of `stepMs`: the wall time not spent waiting for a read from the device
   * (`timeDeviceWaits`): JS, TF.js, Dawn's encoding and submits. Near `stepMs`, the host sets the
   * pace (a launch-bound step); well below, the device does.
   */
  readonly hostMs: number;
  readonly phaseMs: Record<StepPhase, number>;
  /** The device's time in the step's compute passes and between them (`timeGpuPasses`), when asked for and available. */
  readonly gpuPasses?: GpuPassTimes | null;
}

export interface TimeStepOptions {
  /** Also time the step's compute passes on the device's clock (webgpu with `timestamp-query`; the read of the stamps is not in `stepMs`). */
  readonly gpuPasses?: boolean;
}

/** Times one run of `step`, synchronised with the device at the end (see `measureStep`). */
export async function timeStep(step: MeasuredStep, options: TimeStepOptions = {}): Promise<StepTime> {
  const probe = new PhaseProbe();
  const run = async () => {
    const t0 = performance.now();
    const { waitMs } = await timeDeviceWaits(() => runOnce(step, probe));
    return { stepMs: performance.now() - t0, waitMs };
  };
  if (!options.gpuPasses) {
    const { stepMs, waitMs } = await run();
    return { stepMs, hostMs: stepMs - waitMs, phaseMs: probe.ms };
  }
  // each pass labelled with the phase the host was in when it began it
  const { result: { stepMs, waitMs }, passes } = await timeGpuPasses(run, { label: () => probe.current ?? 'outside' });
  return { stepMs, hostMs: stepMs - waitMs, phaseMs: probe.ms, gpuPasses: passes };
}

/** Medians of step times as `medianTimes` gives them. */
export interface MedianTimes {
  readonly stepMs: number;
  readonly hostMs: number;
  readonly phaseMs: Partial<Record<StepPhase, number>>;
  /** Median device time in compute passes and between them (NaN where the steps' passes were not timed). */
  readonly gpuBusyMs: number;
  readonly gpuIdleMs: number;
  /** Median device idle ms before the passes each phase began (`GpuPassTimes.byLabel`; empty where not timed). */
  readonly gpuIdleByPhase: Partial<Record<string, number>>;
}

/** Medians of the step times, of their host shares, of the device's busy and idle time, and of each phase's (phases that never ran are left out). */
export function medianTimes(times: readonly StepTime[]): MedianTimes {
  const phaseMs: Partial<Record<StepPhase, number>> = {};
  for (const p of STEP_PHASES) {
    const v = median(times.map((t) => t.phaseMs[p]));
    if (v > 0) phaseMs[p] = v;
  }
  const passes = times.map((t) => t.gpuPasses).filter((p): p is GpuPassTimes => !!p && p.passes > 0);
  const ofPasses = (f: (p: GpuPassTimes) => number) => (passes.length === times.length ? median(passes.map(f)) : Number.NaN);
  const gpuIdleByPhase: Partial<Record<string, number>> = {};
  if (passes.length === times.length) {
    for (const label of new Set(passes.flatMap((p) => Object.keys(p.byLabel)))) gpuIdleByPhase[label] = median(passes.map((p) => p.byLabel[label]?.idleMs ?? 0));
  }
  return {
    stepMs: median(times.map((t) => t.stepMs)),
    hostMs: median(times.map((t) => t.hostMs)),
    phaseMs,
    gpuBusyMs: ofPasses((p) => p.busyMs),
    gpuIdleMs: ofPasses((p) => p.idleMs),
    gpuIdleByPhase,
  };
}

/**
 * Measures a training step: `warmup` unmeasured runs, one run under `tf.profile` (peak and live
 * bytes per phase from the engine's own count, after every kernel), then `reps` timed runs.
 * Each run ends with a one-element asynchronous read, so times include the device's work on every
 * backend (no synchronous reads: they fail on webgpu in Node).
 *
 * @example
 * const m = await measureStep(async (probe) => {
 *   await probe.around('backward', () => pg.accumulate(() => probe.around('forward', () => model.perSampleLoss(ids))));
 *   const { grads } = await probe.around('noise', () => pg.release());
 *   tf.dispose([...grads.values()]);
 * });
 */
export async function measureStep(step: MeasuredStep, options: MeasureStepOptions = {}): Promise<StepMeasurement> {
  const warmup = options.warmup ?? 1;
  const reps = options.reps ?? 3;
  if (!(Number.isInteger(reps) && reps >= 0)) throw new ClipwiseMemoryError(`measureStep: reps must be an integer ≥ 0, got ${reps}`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new ClipwiseMemoryError(`measureStep: warmup must be an integer ≥ 0, got ${warmup}`);
  for (let i = 0; i < warmup; i++) await runOnce(step, new PhaseProbe());
  let timeline: TimelinePoint[] = [];
  let leakedBytes = 0;
  let arrivalBytes: number[] = [];
  let backendBuffers: StepMeasurement['backendBuffers'] = null;
  let kernels: KernelSummary | null = null;
  let hostWriteBytes: number | null = null;
  if (options.profile !== false) {
    const base = tf.memory().numBytes;
    const probe = new PhaseProbe();
    resetGpuPoolPeaks();
    const { result: profile, bytes } = await countHostWrites(() => tf.profile(() => runOnce(step, probe)));
    hostWriteBytes = bytes;
    timeline = phaseTimeline(profile.kernels.map((k) => k.totalBytesSnapshot), probe.marks, base);
    leakedBytes = tf.memory().numBytes - base;
    arrivalBytes = probe.arrivalBytes.map((b) => b - base);
    backendBuffers = backendBufferBytes();
    kernels = await summariseKernels(profile.kernels);
  }
  const times: StepTime[] = [];
  for (let r = 0; r < reps; r++) times.push(await timeStep(step));
  const { stepMs, hostMs, phaseMs } = medianTimes(times);
  return {
    stepMs,
    stepMsAll: times.map((t) => t.stepMs),
    hostMs,
    phaseMs,
    peakBytes: timeline.length ? Math.max(...timeline.map((p) => p.bytes)) : 0,
    phasePeakBytes: phasePeaks(timeline),
    timeline,
    arrivalBytes,
    leakedBytes,
    backendBuffers,
    kernels,
    hostWriteBytes,
  };
}
