import { ClipwiseOptimError } from './errors';

/** Learning rate as a function of the step count (0-based). */
export type Schedule = (step: number) => number;

function positive(name: string, v: number): void {
  if (!(v >= 0) || !Number.isFinite(v)) throw new ClipwiseOptimError(`${name} must be a finite number ≥ 0, got ${v}`);
}

export function constantSchedule(value: number): Schedule {
  positive('learning rate', value);
  return () => value;
}

/** A learning rate as given (a number or a schedule) as a schedule. */
export function toSchedule(lr: number | Schedule): Schedule {
  return typeof lr === 'number' ? constantSchedule(lr) : lr;
}

/** Linear from `init` to `end` over `steps`, then `end`. */
export function linearSchedule(init: number, end: number, steps: number): Schedule {
  positive('linear schedule init', init);
  positive('linear schedule end', end);
  if (!(steps > 0)) throw new ClipwiseOptimError(`linear schedule steps must be > 0, got ${steps}`);
  return (s) => init + (end - init) * Math.min(s / steps, 1);
}

/** Cosine decay from `peak` to `peak·alpha` over `steps` (Loshchilov & Hutter 2017). */
export function cosineDecaySchedule(peak: number, steps: number, alpha = 0): Schedule {
  positive('cosine peak', peak);
  if (!(steps > 0)) throw new ClipwiseOptimError(`cosine schedule steps must be > 0, got ${steps}`);
  return (s) => peak * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * Math.min(s / steps, 1))) + alpha);
}

/** Linear warmup from 0 to `peak` over `warmup` steps, then cosine decay to `end` at `total`. */
export function warmupCosineSchedule(peak: number, warmup: number, total: number, end = 0): Schedule {
  if (!(warmup >= 0 && total > warmup)) throw new ClipwiseOptimError(`warmup (${warmup}) must be ≥ 0 and < total steps (${total})`);
  const cos = cosineDecaySchedule(peak, total - warmup, peak > 0 ? end / peak : 0);
  return (s) => (s < warmup ? (peak * (s + 1)) / (warmup + 1) : cos(s - warmup));
}

/** Linear warmup to `peak`, then constant. */
export function warmupConstantSchedule(peak: number, warmup: number): Schedule {
  positive('peak', peak);
  return (s) => (s < warmup ? (peak * (s + 1)) / (warmup + 1) : peak);
}
