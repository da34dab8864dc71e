import { ClipwiseError } from '../errors';

/**
 * The WebGPU device reported an error (a validation error, out of memory, an internal error): the
 * command buffer it concerned did not run, so every value computed since is suspect. The message
 * quotes the device's first report, which names the cause; later ones are mostly "invalid due to a
 * previous error".
 */
export class GpuDeviceError extends ClipwiseError {}

/** What the watcher keeps of one report: its kind (the error's class name) and first lines. */
export interface DeviceErrorReport {
  readonly kind: string;
  readonly message: string;
}

/** The part of a GPUDevice the watcher needs. */
interface ErrorSource {
  addEventListener(type: 'uncapturederror', listener: (event: { error?: { message?: string; constructor?: { name?: string } } }) => void): void;
}

const KEEP = 8;
const reports: DeviceErrorReport[] = [];
let total = 0;
const watched = new WeakSet<object>();

/**
 * Records the errors `device` reports without an error scope (`uncapturederror`), the first
 * {@link KEEP} of them, so that a step can fail with the cause instead of going on with values from
 * command buffers that never ran (the symptom is a NaN loss some steps later). The device still
 * prints them (Dawn in Node does). Idempotent per device; `setupBackend('webgpu')` calls it.
 *
 * @example
 * watchDeviceErrors((tf.backend() as WebGPUBackend).device);
 * await step();
 * throwIfDeviceError('after step 12');
 */
export function watchDeviceErrors(device: unknown): void {
  const source = device as Partial<ErrorSource> | null;
  if (!source || typeof source.addEventListener !== 'function' || watched.has(source)) return;
  watched.add(source);
  source.addEventListener('uncapturederror', (event) => {
    total++;
    if (reports.length >= KEEP) return;
    const error = event.error;
    const message = (error?.message ?? String(error)).split('\n').slice(0, 6).join('\n');
    reports.push({ kind: error?.constructor?.name ?? 'GPUError', message });
  });
}

/** The reports kept since the last `clearDeviceErrors` (at most the first 8) and how many came in all. */
export function deviceErrors(): { readonly reports: readonly DeviceErrorReport[]; readonly total: number } {
  return { reports: [...reports], total };
}

/** Forgets the reports (a test that provokes one on purpose, or a fresh device). */
export function clearDeviceErrors(): void {
  reports.length = 0;
  total = 0;
}

/**
 * What the device reported since the last clear, as one message quoting its first report (`where`
 * says what ran, e.g. "step 12"); null when it reported nothing.
 */
export function deviceErrorMessage(where: string): string | null {
  if (total === 0) return null;
  const first = reports[0]!;
  const more = total > 1 ? ` (${total - 1} more report${total > 2 ? 's' : ''} followed)` : '';
  return `the GPU device reported an error by ${where}, so the computation's results are invalid${more}; its first report, ${first.kind}:\n${first.message}`;
}

/**
 * Throws {@link GpuDeviceError} ({@link deviceErrorMessage}) if the device reported an error since the
 * last clear. Errors arrive asynchronously, so call it after something that waited on the device (a
 * `data()` read).
 */
export function throwIfDeviceError(where: string): void {
  const message = deviceErrorMessage(where);
  if (message !== null) throw new GpuDeviceError(message);
}
