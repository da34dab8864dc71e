// What the host-time scripts (enqueue-profile.ts, enqueue-ab.ts) count per step on webgpu: engine
// entries (every runKernel, reshapes included), real dispatches (the pass encoder's), and the main
// thread's CPU time.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';

/** Counts engine entries and dispatches from now on; `take()` returns the counts so far and restarts them. */
export function hostCounters(): { take(): { entries: number; dispatches: number } } {
  let entries = 0;
  let dispatches = 0;
  const engine = tf.engine() as unknown as { runKernel(...a: unknown[]): unknown };
  const runKernel = engine.runKernel.bind(engine);
  engine.runKernel = (...a: unknown[]) => {
    entries++;
    return runKernel(...a);
  };
  // the pass encoder's prototype, from a pass of a command encoder that is never submitted
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const pass = device.createCommandEncoder().beginComputePass({});
  const proto = Object.getPrototypeOf(pass) as { dispatchWorkgroups(...a: unknown[]): void };
  pass.end();
  const dispatch = proto.dispatchWorkgroups;
  proto.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
    dispatches++;
    return dispatch.apply(this, a);
  };
  return {
    take() {
      const counts = { entries, dispatches };
      [entries, dispatches] = [0, 0];
      return counts;
    },
  };
}

/** What the device has created since the last `take()`: buffers (count and bytes), bind groups and compute pipelines. */
export interface DeviceCreations {
  buffers: number;
  bytes: number;
  bindGroups: number;
  pipelines: number;
}

/**
 * Counts what `device` creates from now on (wrapping its create methods): buffers (pool misses and
 * staging), bind groups (new buffers, or old ones in new places, miss the bind-group caches) and
 * compute pipelines (a kernel whose WGSL depends on the shape compiles anew for each new shape).
 * `take()` returns the counts so far and restarts them; `restore()` puts the device's own methods back.
 */
export function deviceCreations(device: GPUDevice): { take(): DeviceCreations; restore(): void } {
  let counts: DeviceCreations = { buffers: 0, bytes: 0, bindGroups: 0, pipelines: 0 };
  const methods = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createComputePipelineAsync'] as const;
  // own properties to delete on restore, or the device's earlier own values (a wrapper's) to put back
  const before = methods.map((m) => Object.getOwnPropertyDescriptor(device, m));
  const wrap = <A, R>(create: (d: A) => R, note: (d: A) => void) => (d: A) => {
    note(d);
    return create(d);
  };
  device.createBuffer = wrap(device.createBuffer.bind(device), (d) => {
    counts.buffers++;
    counts.bytes += d.size;
  });
  device.createBindGroup = wrap(device.createBindGroup.bind(device), () => counts.bindGroups++);
  device.createComputePipeline = wrap(device.createComputePipeline.bind(device), () => counts.pipelines++);
  device.createComputePipelineAsync = wrap(device.createComputePipelineAsync.bind(device), () => counts.pipelines++);
  return {
    take() {
      const taken = counts;
      counts = { buffers: 0, bytes: 0, bindGroups: 0, pipelines: 0 };
      return taken;
    },
    restore() {
      methods.forEach((m, i) => {
        const own = before[i];
        if (own) Object.defineProperty(device, m, own);
        else delete (device as unknown as Record<string, unknown>)[m];
      });
    },
  };
}

/** The main thread's CPU time in ms (user + system, /proc: 10 ms ticks), Linux only. */
export function mainThreadCpuMs(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
