import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createParam, normalInit, setFusedKernels, type ParamSpec } from '@clipwise/core';
import { Optimizer } from '../optimizer';
import { warmupCosineSchedule } from '../schedules';
import { adam, adamw, sgd } from './adam';
import type { GradientTransformation } from './gradient-transformation';

const onDevice = tf.getBackend() === 'webgpu';

/**
 * Sizes that are not multiples of the workgroup (and one above a grid-stride round); 19 parameters in
 * all, so every kernel takes several dispatches, the last one partly filled, whatever the device's
 * binding limit (2 to 16 parameters a dispatch).
 */
const SHAPES = [[3], [37, 5], [257], [64, 8193], ...Array.from({ length: 15 }, (_, i) => [i + 1, 3])];

function params(seed: number): ParamSpec[] {
  return SHAPES.map((shape, i) =>
    createParam({ name: `p${i}`, layer: `l${i}`, kind: 'linear', role: i % 2 ? 'bias' : 'weight', shape, init: normalInit(1, seed + i), order: i }),
  );
}

/** Runs 3 steps of `make()` on fresh params, fused (in place) or as the chain of TF.js ops. */
async function run(make: () => GradientTransformation<any>, fused: boolean): Promise<{ params: Float32Array[]; state: unknown }> {
  setFusedKernels(fused);
  const ps = params(1);
  const opt = new Optimizer(make(), ps);
  try {
    for (let step = 0; step < 3; step++) {
      const grads = new Map(ps.map((p, i) => [p.name, tf.randomNormal(p.shape as number[], 0, 1, 'float32', 100 * step + i + 1)]));
      opt.step(grads);
      tf.dispose([...grads.values()]);
    }
    return { params: await Promise.all(ps.map(async (p) => (await p.variable.data()) as Float32Array)), state: await opt.stateToJSON() };
  } finally {
    opt.dispose();
    ps.forEach((p) => p.variable.dispose());
    setFusedKernels(true);
  }
}

/** Largest |a − b| / max(1, |b|): parameters are O(1), and a GPU compiler may fuse p + g·(−lr) into one FMA (one rounding fewer than the chain's two ops), so near-zero results differ by an ulp of the operands, not of the result. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

const OPTIMIZERS: [string, () => GradientTransformation<any>][] = [
  ['adamw (schedule, decay mask)', () => adamw({ learningRate: warmupCosineSchedule(1e-2, 1, 10), weightDecay: 0.1, decayMask: (n) => n !== 'p1' })],
  ['adam', () => adam({ learningRate: 3e-3, b1: 0.8, b2: 0.99, eps: 1e-6 })],
  ['sgd', () => sgd({ learningRate: 0.05 })],
  ['sgd momentum', () => sgd({ learningRate: 0.05, momentum: 0.9 })],
  ['sgd nesterov', () => sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true })],
];

describe('in-place optimizer updates (one kernel per parameter on webgpu)', () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: parameters and state equal the chain of plain ops after 3 steps`, async () => {
      const before = tf.memory().numTensors;
      const fused = await run(make, true);
      const plain = await run(make, false);
      fused.params.forEach((p, i) => expect(maxRelDiff(p, plain.params[i]!)).toBeLessThan(1e-6));
      // same checkpoint structure and counts; moments within f32 rounding
      const strip = (s: unknown): unknown => JSON.parse(JSON.stringify(s, (k, v) => (k === 'data' ? (v as number[]).length : v)));
      expect(strip(fused.state)).toEqual(strip(plain.state));
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it.runIf(onDevice)('writes a variable that shares its storage only after giving it storage of its own', async () => {
    const [p] = params(3);
    const alias = tf.reshape(p!.variable, [-1]); // shares the variable's storage
    const before = await alias.data();
    const opt = new Optimizer(sgd({ learningRate: 1 }), [p!]);
    const g = tf.onesLike(p!.variable);
    opt.step(new Map([[p!.name, g]]));
    expect(Array.from(await alias.data())).toEqual(Array.from(before)); // the alias kept its values
    const after = await p!.variable.data();
    expect(after[0]).toBeCloseTo(before[0]! - 1, 5);
    tf.dispose([alias, g]);
    opt.dispose();
    p!.variable.dispose();
  });

  it.runIf(!onDevice)('falls back to the chain off webgpu (inPlace.apply returns null)', () => {
    const ps = params(2);
    const t = adamw({ learningRate: 1e-3 });
    const state = t.init(Object.fromEntries(ps.map((p) => [p.name, p.variable])));
    expect(t.inPlace!.apply({}, state, new Map(ps.map((p) => [p.name, p.variable])))).toBeNull();
    tf.dispose(ps.map((p) => p.variable));
    tf.dispose((state as { mu?: unknown }[]).flatMap((s) => Object.values((s as { mu?: Record<string, tf.Tensor> }).mu ?? {})));
    tf.dispose((state as { nu?: unknown }[]).flatMap((s) => Object.values((s as { nu?: Record<string, tf.Tensor> }).nu ?? {})));
  });
});
