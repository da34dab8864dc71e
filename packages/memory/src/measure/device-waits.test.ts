import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withBackendMethod } from './backend-patch';
import { timeDeviceWaits, WaitClock } from './device-waits';
import { timeStep } from './measure-step';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes the active backend's reads take `ms` longer (a device still busy), for `fn`. */
function withSlowReads<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return withBackendMethod(
    'read',
    (read) =>
      async function (this: unknown, ...args: never[]) {
        await sleep(ms);
        return read.apply(this, args);
      },
    fn,
  );
}

describe('WaitClock', () => {
  it('counts the union of overlapping waits once, and each end once', () => {
    let t = 0;
    const w = new WaitClock(() => t);
    const a = w.begin(); // 0
    t = 5;
    const b = w.begin();
    t = 10;
    a();
    a(); // a second end changes nothing
    t = 20;
    b(); // 0 → 20 pending
    t = 30;
    const c = w.begin();
    t = 33;
    expect(w.ms).toBe(23); // still pending: counts up to now
    t = 35;
    c();
    t = 50;
    expect(w.ms).toBe(25);
  });
});

describe('timeDeviceWaits', () => {
  it('times the reads a function awaits, passes its result through and restores the backend', async () => {
    const backend = tf.backend() as unknown as { read: unknown };
    const before = backend.read;
    const x = tf.ones([8]);
    const { result, waitMs } = await withSlowReads(40, () => timeDeviceWaits(async () => (await x.data())[0]));
    expect(result).toBe(1);
    expect(waitMs).toBeGreaterThanOrEqual(35);
    expect(backend.read).toBe(before);
    // two reads awaited together count once: no more than the call's wall time (counted twice, they
    // would be about twice it), a bound that holds however late a loaded machine's timers fire
    const t0 = performance.now();
    const both = await withSlowReads(40, () => timeDeviceWaits(() => Promise.all([x.data(), x.data()])));
    const wall = performance.now() - t0;
    expect(both.waitMs).toBeGreaterThanOrEqual(35);
    expect(both.waitMs).toBeLessThanOrEqual(wall);
    // restored when the function throws
    await expect(timeDeviceWaits(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(backend.read).toBe(before);
    x.dispose();
  });
});

describe('timeStep: the host share', () => {
  it('is the step time less the device waits', async () => {
    // host work of 30 ms, then a result the final sync reads slowly (40 ms)
    const t = await withSlowReads(40, () =>
      timeStep(async () => {
        await sleep(30);
        return tf.ones([4]);
      }),
    );
    expect(t.hostMs).toBeGreaterThanOrEqual(25);
    expect(t.stepMs - t.hostMs).toBeGreaterThanOrEqual(35);
  });
});
