import * as tf from '@tensorflow/tfjs-core';
import { STEP_PHASES, type StepPhase } from '../phases';
import { profiledKernelCount } from './engine-profile';

/** A phase change: from `kernel` (index into the running profile's kernel list) on, `phase` runs. */
export interface PhaseMark {
  readonly phase: StepPhase | null;
  readonly kernel: number;
  /** Engine bytes (`tf.memory().numBytes`) at the change. */
  readonly bytes: number;
}

/**
 * Attributes wall time and memory of a step to its phases. Phases nest (norms run inside backward);
 * time goes to the innermost running phase. Wrap each part of the step in `around(phase, f)`.
 * Under `tf.profile`, it also marks where each phase starts in the profile's kernel list, so the
 * bytes after every kernel can be split by phase (`phasePeaks`).
 *
 * On cpu and wasm kernels run synchronously, so phase times are exact; on webgpu they are the times
 * to enqueue the work, except that the step's total (synchronised by the caller) is exact.
 *
 * @example
 * const probe = new PhaseProbe();
 * const loss = probe.around('forward', () => model.perSampleLoss(ids));
 */
export class PhaseProbe {
  readonly ms: Record<StepPhase, number> = Object.fromEntries(STEP_PHASES.map((p) => [p, 0])) as Record<StepPhase, number>;
  readonly marks: PhaseMark[] = [];
  /** Engine bytes when each layer record reached the kernels (backward order); see `withKernelProbe`. */
  readonly arrivalBytes: number[] = [];
  private readonly stack: StepPhase[] = [];
  private since = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Runs `f` as `phase` (sync or async); nested calls attribute their time to the inner phase. */
  around<T>(phase: StepPhase, f: () => T): T {
    this.enter(phase);
    let result: T;
    try {
      result = f();
    } catch (e) {
      this.leave(phase);
      throw e;
    }
    if (result instanceof Promise) {
      return result.finally(() => this.leave(phase)) as T;
    }
    this.leave(phase);
    return result;
  }

  enter(phase: StepPhase): void {
    this.switchTo(phase);
    this.stack.push(phase);
  }

  leave(phase: StepPhase): void {
    const top = this.stack[this.stack.length - 1];
    if (top !== phase) throw new Error(`PhaseProbe.leave('${phase}') but '${top ?? 'nothing'}' is running`);
    this.switchTo(this.stack[this.stack.length - 2] ?? null);
    this.stack.pop();
  }

  /** Notes the engine's bytes now as the arrival of the next layer record. */
  recordArrived(): void {
    this.arrivalBytes.push(tf.memory().numBytes);
  }

  /** The phase running now, or null. */
  get current(): StepPhase | null {
    return this.stack[this.stack.length - 1] ?? null;
  }

  private switchTo(next: StepPhase | null): void {
    const t = this.now();
    const running = this.current;
    if (running) this.ms[running] += t - this.since;
    this.since = t;
    const kernel = profiledKernelCount();
    if (kernel >= 0) this.marks.push({ phase: next, kernel, bytes: tf.memory().numBytes });
  }
}

/** One kernel of a profiled step: bytes after it (above `base`) and the phase it ran in. */
export interface TimelinePoint {
  readonly phase: StepPhase | null;
  readonly bytes: number;
}

/** Splits a profile's per-kernel byte counts by the probe's marks; bytes are above `base`. */
export function phaseTimeline(kernelBytes: readonly number[], marks: readonly PhaseMark[], base: number): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  let m = 0;
  let phase: StepPhase | null = null;
  kernelBytes.forEach((b, k) => {
    while (m < marks.length && marks[m]!.kernel <= k) phase = marks[m++]!.phase;
    out.push({ phase, bytes: b - base });
  });
  return out;
}

/** Largest bytes per phase in a timeline. */
export function phasePeaks(timeline: readonly TimelinePoint[]): Partial<Record<StepPhase, number>> {
  const peaks: Partial<Record<StepPhase, number>> = {};
  for (const p of timeline) if (p.phase) peaks[p.phase] = Math.max(peaks[p.phase] ?? -Infinity, p.bytes);
  return peaks;
}
