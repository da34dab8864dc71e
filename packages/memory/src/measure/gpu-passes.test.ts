import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { passTimes, timeGpuPasses } from './gpu-passes';
import { medianTimes, timeStep } from './measure-step';

/** Busy and span of integer intervals, counted unit by unit (the brute-force reference). */
function bruteForce(stamps: readonly [number, number][]): { busy: number; span: number } {
  const lo = Math.min(...stamps.map(([b]) => b));
  const hi = Math.max(...stamps.map(([, e]) => e));
  const covered = new Array<boolean>(hi - lo).fill(false);
  for (const [b, e] of stamps) for (let t = b; t < e; t++) covered[t - lo] = true;
  return { busy: covered.filter(Boolean).length, span: hi - lo };
}

describe('passTimes', () => {
  it('gives span, busy (the union of the passes) and idle, against a unit-by-unit count', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let trial = 0; trial < 20; trial++) {
      // passes in submission order, some overlapping, some with gaps, some out of order
      const stamps: [number, number][] = [];
      let t = 1000 + rand(500);
      for (let k = 0; k < 1 + rand(12); k++) {
        t += rand(3) === 0 ? -rand(40) : rand(300);
        stamps.push([t, t + 1 + rand(200)]);
        t = stamps[stamps.length - 1]![1];
      }
      const ref = bruteForce(stamps);
      const labels = stamps.map(() => (rand(2) ? 'a' : 'b'));
      const got = passTimes(stamps.map(([b, e]) => [BigInt(b * 1e6), BigInt(e * 1e6)] as const), 0, labels);
      expect(got.passes).toBe(stamps.length);
      expect(got.spanMs).toBeCloseTo(ref.span, 6);
      expect(got.busyMs).toBeCloseTo(ref.busy, 6);
      expect(got.idleMs).toBeCloseTo(ref.span - ref.busy, 6);
      // the labels' parts add up to the whole
      const parts = Object.values(got.byLabel);
      expect(parts.reduce((t, l) => t + l.busyMs, 0)).toBeCloseTo(got.busyMs, 6);
      expect(parts.reduce((t, l) => t + l.idleMs, 0)).toBeCloseTo(got.idleMs, 6);
    }
  });

  it('leaves out passes with an unwritten or reversed stamp, and counts them untimed', () => {
    const got = passTimes([[0n, 5_000_000n], [10_000_000n, 12_000_000n], [20_000_000n, 19_000_000n], [30_000_000n, 31_000_000n]], 2);
    expect(got).toEqual({ passes: 2, untimed: 4, spanMs: 21, busyMs: 3, idleMs: 18, byLabel: {} });
    expect(passTimes([])).toEqual({ passes: 0, untimed: 0, spanMs: 0, busyMs: 0, idleMs: 0, byLabel: {} });
  });

  it('splits busy and idle by label: a pass takes the gap before it and what it adds to the union', () => {
    const ns = (ms: number) => BigInt(ms * 1e6);
    // forward 0-10, forward 12-20 (gap 2), backward 18-30 (overlaps: adds 10), noise 35-36 (gap 5), backward 36-40
    const stamps = [[0, 10], [12, 20], [18, 30], [35, 36], [36, 40]].map(([b, e]) => [ns(b! + 100), ns(e! + 100)] as const);
    const got = passTimes(stamps, 0, ['forward', 'forward', 'backward', 'noise', 'backward']);
    expect(got.byLabel).toEqual({
      forward: { busyMs: 18, idleMs: 2, passes: 2 },
      backward: { busyMs: 14, idleMs: 0, passes: 2 },
      noise: { busyMs: 1, idleMs: 5, passes: 1 },
    });
    expect(got.busyMs).toBe(33);
    expect(got.idleMs).toBe(7);
  });
});

describe('timeGpuPasses', () => {
  it.runIf(tf.getBackend() !== 'webgpu')('gives no pass times off webgpu, and the result', async () => {
    const { result, passes } = await timeGpuPasses(async () => 3);
    expect(result).toBe(3);
    expect(passes).toBeNull();
  });

  it.runIf(tf.getBackend() === 'webgpu')('times the passes; a device left waiting for the host shows as idle', async () => {
    const a = tf.randomNormal([256, 256], 0, 1, 'float32', 1);
    const product = async () => {
      const y = tf.tidy(() => tf.matMul(tf.matMul(a, a), a));
      await y.data();
      y.dispose();
    };
    await product(); // compiled, buffers pooled
    const busy = await timeGpuPasses(product);
    expect(busy.passes).not.toBeNull();
    expect(busy.passes!.passes).toBeGreaterThan(0);
    expect(busy.passes!.busyMs).toBeGreaterThan(0);
    expect(busy.passes!.busyMs).toBeLessThanOrEqual(busy.passes!.spanMs + 1e-9);
    // the host sleeps 60 ms between two reads: the device has nothing to run meanwhile
    const gap = await timeGpuPasses(async () => {
      await product();
      await new Promise((r) => setTimeout(r, 60));
      await product();
    });
    expect(gap.passes!.passes).toBeGreaterThanOrEqual(2 * busy.passes!.passes);
    expect(gap.passes!.idleMs).toBeGreaterThan(50);
    // the patch is gone: a pass begun now carries no timestamp writes of ours
    const later = await timeGpuPasses(async () => 0, { capacity: 0 });
    expect(later.passes).toEqual({ passes: 0, untimed: 0, spanMs: 0, busyMs: 0, idleMs: 0, byLabel: {} });
    // labels: what the host was doing when it began each pass
    let phase = 'first';
    const labelled = await timeGpuPasses(
      async () => {
        await product();
        phase = 'second';
        await product();
      },
      { label: () => phase },
    );
    expect(Object.keys(labelled.passes!.byLabel).sort()).toEqual(['first', 'second']);
    const parts = Object.values(labelled.passes!.byLabel);
    expect(parts.reduce((t, l) => t + l.busyMs, 0)).toBeCloseTo(labelled.passes!.busyMs, 6);
    expect(parts.reduce((t, l) => t + l.passes, 0)).toBe(labelled.passes!.passes);
    a.dispose();
  });

  it.runIf(tf.getBackend() === 'webgpu')('timeStep reports them when asked; medianTimes takes their medians', async () => {
    const a = tf.randomNormal([128, 128], 0, 1, 'float32', 2);
    const step = async () => tf.matMul(a, a);
    const times = [await timeStep(step, { gpuPasses: true }), await timeStep(step, { gpuPasses: true }), await timeStep(step, { gpuPasses: true })];
    for (const t of times) expect(t.gpuPasses!.passes).toBeGreaterThan(0);
    const m = medianTimes(times);
    expect(m.gpuBusyMs).toBe([...times.map((t) => t.gpuPasses!.busyMs)].sort((x, y) => x - y)[1]);
    // without the option: no pass times, and medians NaN
    const plain = await timeStep(step);
    expect(plain.gpuPasses).toBeUndefined();
    expect(medianTimes([plain]).gpuBusyMs).toBeNaN();
    a.dispose();
  });
});
