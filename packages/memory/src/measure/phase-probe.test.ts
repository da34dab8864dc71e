import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PhaseProbe, phasePeaks, phaseTimeline } from './phase-probe';
import { measureStep } from './measure-step';

/** A clock that advances only when told: phase times are then known exactly. */
function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('PhaseProbe', () => {
  it('gives nested time to the innermost phase and the rest to the outer one', async () => {
    const clock = fakeClock();
    const probe = new PhaseProbe(clock.now);
    await probe.around('backward', async () => {
      clock.advance(5);
      probe.around('forward', () => clock.advance(7));
      clock.advance(3);
      probe.around('norms', () => clock.advance(2));
      probe.around('norms', () => clock.advance(4));
    });
    probe.around('noise', () => clock.advance(11));
    expect(probe.ms.backward).toBe(8);
    expect(probe.ms.forward).toBe(7);
    expect(probe.ms.norms).toBe(6);
    expect(probe.ms.noise).toBe(11);
    expect(probe.ms['clipped-sums']).toBe(0);
  });

  it('leaves a phase when its function throws, and refuses a leave out of order', () => {
    const probe = new PhaseProbe(fakeClock().now);
    expect(() => probe.around('forward', () => { throw new Error('boom'); })).toThrow('boom');
    expect(probe.current).toBeNull();
    probe.enter('backward');
    expect(() => probe.leave('forward')).toThrow(/leave\('forward'\) but 'backward' is running/);
  });

  it('splits per-kernel bytes by phase marks', () => {
    const marks = [
      { phase: 'forward' as const, kernel: 0, bytes: 0 },
      { phase: 'backward' as const, kernel: 2, bytes: 0 },
      { phase: 'norms' as const, kernel: 3, bytes: 0 },
      { phase: 'backward' as const, kernel: 4, bytes: 0 },
    ];
    const timeline = phaseTimeline([110, 130, 125, 160, 120], marks, 100);
    expect(timeline.map((p) => p.phase)).toEqual(['forward', 'forward', 'backward', 'norms', 'backward']);
    expect(phasePeaks(timeline)).toEqual({ forward: 30, backward: 25, norms: 60 });
  });
});

describe('measureStep', () => {
  it('measures the peak the engine sees and the bytes of each phase, without leaking', async () => {
    const before = tf.memory().numTensors;
    const m = await measureStep(
      async (probe) => {
        const a = probe.around('forward', () => tf.fill([1000], 1)); // a kernel: 4000 bytes
        const b = probe.around('backward', () => tf.tidy(() => tf.add(tf.square(a), a))); // temporary + result: 8000 more
        a.dispose();
        return b;
      },
      { warmup: 1, reps: 2 },
    );
    // forward holds a (4000 B); backward adds square's temporary and the result (peak 12000 B)
    expect(m.phasePeakBytes.forward).toBe(4000);
    expect(m.phasePeakBytes.backward).toBe(12000);
    expect(m.peakBytes).toBe(12000);
    expect(m.stepMsAll).toHaveLength(2);
    expect(m.leakedBytes).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a bad repetition count, naming it', async () => {
    await expect(measureStep(async () => undefined, { reps: -1 })).rejects.toThrow(/reps must be an integer ≥ 0, got -1/);
  });
});
