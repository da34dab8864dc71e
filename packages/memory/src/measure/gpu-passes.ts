import * as tf from '@tensorflow/tfjs-core';
import { submitQueued } from '@clipwise/core';

/** How long the device ran a step's compute passes, on its own clock (`timeGpuPasses`). */
export interface GpuPassTimes {
  /** Compute passes timed (TF.js ends one every `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` launches, and at reads). */
  readonly passes: number;
  /** Passes left untimed: past the query set's capacity, or already timed by TF.js's own profiler. */
  readonly untimed: number;
  /** From the first timed pass's start to the last one's end, ms. */
  readonly spanMs: number;
  /** Time inside at least one timed pass (the union of their intervals), ms. */
  readonly busyMs: number;
  /**
   * `spanMs − busyMs`: time between passes when the device ran none. The device waiting for the host
   * to submit the next pass (a launch-bound step) shows here, as do the copies and uniform writes that
   * run between passes (short).
   */
  readonly idleMs: number;
  /**
   * Busy and idle ms by the label the host was in when it began each pass (`TimeGpuPassesOptions.label`,
   * e.g. the step's phase): a pass's busy time and the gap before it, in which the device waited for
   * that pass's work.
   */
  readonly byLabel: Readonly<Record<string, { readonly busyMs: number; readonly idleMs: number; readonly passes: number }>>;
}

export interface TimeGpuPassesOptions {
  /** Passes timed at most (two timestamps each); later ones run untimed. Default 2048. */
  readonly capacity?: number;
  /** Names what the host is doing when it begins a pass (e.g. the step's phase), for `GpuPassTimes.byLabel`. */
  readonly label?: () => string;
}

/**
 * Begin/end timestamps (ns, any origin) of passes, in the order they were begun, to span, busy
 * (interval union) and idle ms, and both by each pass's label (the gap before a pass goes to its
 * label). Passes with a missing or reversed stamp are left out.
 */
export function passTimes(stamps: readonly (readonly [bigint, bigint])[], untimed = 0, labels: readonly string[] = []): GpuPassTimes {
  const valid = stamps
    .map(([b, e], k) => ({ b, e, label: labels[k] ?? '' }))
    .filter(({ b, e }) => b > 0n && e >= b)
    .sort((x, y) => (x.b < y.b ? -1 : x.b > y.b ? 1 : 0));
  const byLabel: Record<string, { busyMs: number; idleMs: number; passes: number }> = {};
  if (valid.length === 0) return { passes: 0, untimed: untimed + stamps.length, spanMs: 0, busyMs: 0, idleMs: 0, byLabel };
  const ms = (ns: bigint) => Number(ns) / 1e6;
  let busy = 0n;
  // the union so far ends at `covered`: a pass adds what lies past it, and the gap before it
  let covered = valid[0]!.b;
  for (const { b, e, label } of valid) {
    const gap = b > covered ? b - covered : 0n;
    const added = e > covered ? e - (b > covered ? b : covered) : 0n;
    busy += added;
    if (e > covered) covered = e;
    if (labels.length > 0) {
      const l = (byLabel[label] ??= { busyMs: 0, idleMs: 0, passes: 0 });
      l.busyMs += ms(added);
      l.idleMs += ms(gap);
      l.passes++;
    }
  }
  const span = covered - valid[0]!.b;
  return { passes: valid.length, untimed: untimed + stamps.length - valid.length, spanMs: ms(span), busyMs: ms(busy), idleMs: ms(span - busy), byLabel };
}

/**
 * Runs `fn` with a timestamp written at the start and end of every compute pass the webgpu backend
 * begins (the `timestamp-query` feature), then reads them: how long the device was busy with the
 * step's passes and how long it sat idle between them. Beside the host's share (`timeDeviceWaits`)
 * this tells a launch-bound step (idle gaps: the device waits for the host) from a device-bound one.
 * `passes` is null off webgpu or without the feature. Core's `setupBackend` starts Dawn without its
 * timestamp quantisation in Node; a device made elsewhere (a browser's) may round them to 65.5 µs.
 *
 * @example
 * const { passes } = await timeGpuPasses(() => step(), { label: () => probe.current ?? 'outside' });
 * if (passes) console.log(`busy ${passes.busyMs} ms, idle ${passes.idleMs} ms between passes`, passes.byLabel);
 */
export async function timeGpuPasses<T>(fn: () => Promise<T>, options: TimeGpuPassesOptions = {}): Promise<{ result: T; passes: GpuPassTimes | null }> {
  const capacity = options.capacity ?? 2048;
  const device = tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as { device?: GPUDevice }).device : undefined;
  if (!device || !device.features.has('timestamp-query')) return { result: await fn(), passes: null };
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
  // every encoder's beginComputePass, through their shared prototype (an encoder made for it is never submitted)
  const proto = Object.getPrototypeOf(device.createCommandEncoder()) as { beginComputePass(d?: GPUComputePassDescriptor): GPUComputePassEncoder };
  const begin = proto.beginComputePass;
  let timed = 0;
  let untimed = 0;
  const labels: string[] = [];
  proto.beginComputePass = function (this: GPUCommandEncoder, d?: GPUComputePassDescriptor) {
    if (d?.timestampWrites || timed >= capacity) {
      untimed++;
      return begin.call(this, d);
    }
    const k = timed++;
    if (options.label) labels.push(options.label());
    return begin.call(this, { ...d, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } });
  };
  let result: T;
  try {
    result = await fn();
    // a pass still open or unsubmitted would leave its stamps unwritten
    submitQueued();
  } finally {
    // (on an error the query set is left to the collector: passes of the backend's open encoder may still write it)
    proto.beginComputePass = begin;
  }
  if (timed === 0) {
    querySet.destroy();
    return { result, passes: passTimes([], untimed, labels) };
  }
  const bytes = 16 * timed;
  const resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    encoder.resolveQuerySet(querySet, 0, 2 * timed, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ns = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const stamps: [bigint, bigint][] = [];
    for (let k = 0; k < timed; k++) stamps.push([ns[2 * k]!, ns[2 * k + 1]!]);
    return { result, passes: passTimes(stamps, untimed, labels) };
  } finally {
    resolved.destroy();
    staging.destroy();
    querySet.destroy();
  }
}
