import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setFusedKernels } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { TinyLm, tokenBatch } from '../../test/tiny-lm';
import { adamw, sgd } from '../transforms/adam';
import type { GradientTransformation } from '../transforms/gradient-transformation';
import { Optimizer } from '../optimizer';
import { PrivateGradients } from './private-gradients';
import { NonPrivateGradients } from './non-private-gradients';
import { releaseAndStep } from './guarded-release';
import { PendingLosses } from './pending-losses';

type Source = PrivateGradients | NonPrivateGradients;
type Batch = 'finite' | 'nan' | 'overflow';

/** Everything a step can change: the parameters' values and the optimizer's state (its counts and moments). */
async function snapshot(model: TinyLm, opt: Optimizer): Promise<{ params: number[][]; state: string }> {
  return { params: await Promise.all(model.params.map(async (p) => Array.from(await p.variable.data()))), state: JSON.stringify(await opt.stateToJSON()) };
}

/**
 * Two micro-batches of `batch`'s kind: finite losses; a NaN in the second; or two finite losses whose
 * float32 sum overflows (each micro-batch's loss scaled to 3e38).
 */
async function accumulate(src: Source, model: TinyLm, batch: Batch, seed: number): Promise<void> {
  const { ids, targets } = tokenBatch(4, 5, 11, seed);
  const half = (k: number) => () => {
    const l = model.perSampleLoss(ids.slice([2 * k], [2]), targets.slice([2 * k], [2]));
    if (batch === 'nan' && k === 1) return tf.mul(l, tf.tensor1d([NaN, 1]));
    if (batch === 'overflow') return tf.mul(tf.div(l, tf.sum(l)), 3e38); // Σ over the micro-batch: 3e38
    return l;
  };
  await src.accumulate(half(0));
  await src.accumulate(half(1));
  tf.dispose([ids, targets]);
}

/** A step as `release` then `step` (the reference) or as `releaseAndStep`; the error of a refused batch, or null. */
async function step(src: Source, opt: Optimizer, guarded: boolean): Promise<Error | null> {
  try {
    if (guarded) {
      await releaseAndStep(src, opt);
    } else {
      const { grads } = await src.release();
      opt.step(grads);
      tf.dispose([...grads.values()]);
    }
    return null;
  } catch (e) {
    return e as Error;
  }
}

const OPTIMIZERS: [string, () => GradientTransformation<any>][] = [
  ['adamw', () => adamw({ learningRate: 1e-2, weightDecay: 0.1 })],
  ['sgd momentum', () => sgd({ learningRate: 0.1, momentum: 0.9 })],
];

/**
 * Runs the same three steps (`batches`) guarded and as the reference, and returns each side's
 * snapshot after every step and the steps' errors. σ = 0 for the private source: a refused batch still
 * draws its noise, so with noise the two sides would agree, but a run that never saw the refused batch
 * would not.
 */
async function runBoth(kind: 'private' | 'non-private', make: () => GradientTransformation<any>, batches: Batch[], fused: boolean) {
  setFusedKernels(fused);
  try {
    const out: { snaps: Awaited<ReturnType<typeof snapshot>>[]; errors: (string | null)[] }[] = [];
    for (const guarded of [false, true]) {
      const model = new TinyLm(11, 8, 'guard');
      const src =
        kind === 'private'
          ? new PrivateGradients({ params: model.params, grouping: resolveGrouping('layer-wise', model.params, { clipNorm: 0.5 }), noiseMultiplier: 0, expectedBatchSize: 4, seed: 1 })
          : new NonPrivateGradients(model.params);
      const opt = new Optimizer(make(), model.params);
      const snaps = [await snapshot(model, opt)];
      const errors: (string | null)[] = [];
      for (const [k, b] of batches.entries()) {
        await accumulate(src, model, b, 10 + k);
        errors.push((await step(src, opt, guarded))?.message ?? null);
        snaps.push(await snapshot(model, opt));
      }
      opt.dispose();
      model.dispose();
      out.push({ snaps, errors });
    }
    return { reference: out[0]!, guarded: out[1]! };
  } finally {
    setFusedKernels(true);
  }
}

describe('a guarded release (releaseAndStep: the update enqueued before the losses are read)', () => {
  for (const fused of [true, false]) {
    for (const [name, make] of OPTIMIZERS) {
      for (const kind of ['private', 'non-private'] as const) {
        it(`${kind}, ${name}, ${fused ? 'in-place kernels where the backend has them' : 'the chain of ops'}: the same parameters and state as release-then-step, a NaN batch refused with nothing changed`, async () => {
          const before = tf.memory().numTensors;
          const { reference, guarded } = await runBoth(kind, make, ['finite', 'nan', 'finite'], fused);
          expect(guarded.errors).toEqual(reference.errors);
          expect(guarded.errors[1]).toMatch(/loss is NaN on a micro-batch; the logical batch was discarded/);
          // bit for bit: the guarded kernels run the same arithmetic, and where(1, x, old) is x
          expect(guarded.snaps).toEqual(reference.snaps);
          // the refused step changed nothing: parameters, moments and counts (Adam's bias correction, the schedule)
          expect(guarded.snaps[2]).toEqual(guarded.snaps[1]);
          expect(guarded.snaps[3]).not.toEqual(guarded.snaps[2]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }
  }

  // The in-place kernels bind the guard as raw float32: a tf.cast of a bool is a view of int32 storage
  // there, whose 1 reads as 1.4e-45 (0 on NVIDIA, which then skipped every update; lavapipe kept it)
  it('makes its guard in float32 storage: 1 for finite losses, 0 for a NaN', async () => {
    for (const [losses, want] of [[[1.5, 2], 1], [[1.5, NaN], 0]] as const) {
      const pending = new PendingLosses();
      for (const l of losses) pending.add(tf.scalar(l));
      const guard = pending.guard();
      const stored = await tf.backend().read(guard.dataId);
      expect(stored).toBeInstanceOf(Float32Array);
      expect(Array.from(stored as Float32Array)).toEqual([want]);
      guard.dispose();
      await pending.settle();
    }
  });

  it('refuses a batch whose losses are finite but overflow in a float32 sum, on the device and the host alike', async () => {
    const { reference, guarded } = await runBoth('non-private', OPTIMIZERS[0]![1], ['finite', 'overflow'], true);
    expect(guarded.errors[1]).toMatch(/losses sum to Infinity in float32; the logical batch was discarded/);
    expect(reference.errors).toEqual(guarded.errors);
    expect(guarded.snaps[2]).toEqual(guarded.snaps[1]);
  });

  it('with noise, equals release-then-step and reports the same statistics', async () => {
    const results = [];
    for (const guarded of [false, true]) {
      const model = new TinyLm(11, 8, 'guard-noise');
      const pg = new PrivateGradients({ params: model.params, grouping: resolveGrouping('all-layer', model.params, { clipNorm: 0.5 }), noiseMultiplier: 1, expectedBatchSize: 4, seed: 7 });
      const opt = new Optimizer(adamw({ learningRate: 1e-2 }), model.params);
      await accumulate(pg, model, 'finite', 3);
      let report;
      if (guarded) report = await releaseAndStep(pg, opt);
      else {
        const { grads, ...rest } = await pg.release();
        opt.step(grads);
        tf.dispose([...grads.values()]);
        report = rest;
      }
      results.push({ report, snap: await snapshot(model, opt) });
      opt.dispose();
      model.dispose();
    }
    expect(results[1]!.report).toEqual(results[0]!.report);
    expect(results[1]!.report.groups[0]!.clipFraction).toBeGreaterThan(0); // the threshold bites: a real clipped step
    expect(results[1]!.snap).toEqual(results[0]!.snap);
  });

  it('a guarded step never runs an in-place update that does not declare it honours guards: the chain runs, and a guard of 0 keeps the values', async () => {
    const model = new TinyLm(11, 8, 'guard-custom');
    const base = sgd({ learningRate: 0.1 });
    let applied = 0;
    // an in-place update written before guards existed: it would apply whatever the guard says
    const custom: GradientTransformation<any> = { ...base, inPlace: { apply: (...args) => (applied++, base.inPlace!.apply(...args)) } };
    const opt = new Optimizer(custom, model.params);
    const before = await snapshot(model, opt);
    const grads = new Map(model.params.map((p) => [p.name, tf.onesLike(p.variable)]));
    const zero = tf.scalar(0);
    opt.step(grads, { guard: zero });
    expect(applied).toBe(0);
    const after = await snapshot(model, opt);
    expect(after.params).toEqual(before.params);
    opt.discardLastStep();
    expect(await snapshot(model, opt)).toEqual(before);
    tf.dispose([zero, ...grads.values()]);
    opt.dispose();
    model.dispose();
  });

  it('Optimizer.step refuses a guard that is not a float32 scalar; discardLastStep needs a guarded step', () => {
    const model = new TinyLm(11, 8, 'guard-args');
    const opt = new Optimizer(sgd({ learningRate: 0.1 }), model.params);
    const grads = new Map(model.params.map((p) => [p.name, tf.zerosLike(p.variable)]));
    const bad = tf.tensor1d([1, 1]);
    expect(() => opt.step(grads, { guard: bad })).toThrowError(/guard must be a float32 scalar/);
    opt.step(grads);
    expect(() => opt.discardLastStep()).toThrowError(/the last step had no guard/);
    tf.dispose([bad, ...grads.values()]);
    opt.dispose();
    model.dispose();
  });
});
