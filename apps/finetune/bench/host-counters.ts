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

/** The main thread's CPU time in ms (user + system, /proc: 10 ms ticks), Linux only. */
export function mainThreadCpuMs(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
