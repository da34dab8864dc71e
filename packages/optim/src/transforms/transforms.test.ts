import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createParam } from '@clipwise/core';
import { Optimizer } from '../optimizer';
import { cosineDecaySchedule, linearSchedule, warmupCosineSchedule } from '../schedules';
import { adam, adamw, sgd } from './adam';

/** Float64 reference implementations of the update rules, written out from the papers. */
function refAdam(theta: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number, wd = 0): number[] {
  const th = [...theta];
  const m = th.map(() => 0);
  const v = th.map(() => 0);
  grads.forEach((g, t) => {
    for (let j = 0; j < th.length; j++) {
      m[j] = b1 * m[j]! + (1 - b1) * g[j]!;
      v[j] = b2 * v[j]! + (1 - b2) * g[j]! ** 2;
      const mh = m[j]! / (1 - b1 ** (t + 1));
      const vh = v[j]! / (1 - b2 ** (t + 1));
      th[j] = th[j]! - lr * (mh / (Math.sqrt(vh) + eps) + wd * th[j]!);
    }
  });
  return th;
}

function refMomentum(theta: number[], grads: number[][], lr: number, mu: number): number[] {
  const th = [...theta];
  const buf = th.map(() => 0);
  for (const g of grads) for (let j = 0; j < th.length; j++) {
    buf[j] = mu * buf[j]! + g[j]!;
    th[j] = th[j]! - lr * buf[j]!;
  }
  return th;
}

const theta0 = [0.5, -1.25, 2, 0.1];
const gradSeq = [
  [0.3, -0.2, 0.9, -1.1],
  [0.1, 0.4, -0.5, 0.2],
  [-0.7, 0.05, 0.3, 0.6],
];

async function run(make: () => ReturnType<typeof adam>): Promise<{ values: number[]; tensorsBefore: number; tensorsAfter: number }> {
  const p = createParam({ name: 'w', layer: 'l', kind: 'linear', role: 'weight', shape: [4], init: () => tf.tensor1d(theta0), order: 0 });
  const opt = new Optimizer(make(), [p]);
  const tensorsBefore = tf.memory().numTensors;
  for (const g of gradSeq) {
    const gt = tf.tensor1d(g);
    opt.step(new Map([['w', gt]]));
    gt.dispose();
  }
  const tensorsAfter = tf.memory().numTensors;
  const values = Array.from(await p.variable.data());
  opt.dispose();
  p.variable.dispose();
  return { values, tensorsBefore, tensorsAfter };
}

describe('base optimizers against float64 references', () => {
  it('Adam', async () => {
    const r = await run(() => adam({ learningRate: 0.1, b1: 0.9, b2: 0.99, eps: 1e-6 }));
    const want = refAdam(theta0, gradSeq, 0.1, 0.9, 0.99, 1e-6);
    r.values.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
  });
  it('AdamW (decoupled decay, scaled by the learning rate as in optax/PyTorch)', async () => {
    const r = await run(() => adamw({ learningRate: 0.05, weightDecay: 0.1 }));
    const want = refAdam(theta0, gradSeq, 0.05, 0.9, 0.999, 1e-8, 0.1);
    r.values.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
  });
  it('SGD with momentum', async () => {
    const r = await run(() => sgd({ learningRate: 0.2, momentum: 0.9 }));
    const want = refMomentum(theta0, gradSeq, 0.2, 0.9);
    r.values.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
  });
  it('state round-trips through JSON', async () => {
    const p = createParam({ name: 'w', layer: 'l', kind: 'linear', role: 'weight', shape: [4], init: () => tf.tensor1d(theta0), order: 0 });
    const a = new Optimizer(adam({ learningRate: 0.1 }), [p]);
    const g = tf.tensor1d(gradSeq[0]!);
    a.step(new Map([['w', g]]));
    const saved = JSON.parse(JSON.stringify(await a.stateToJSON()));
    const b = new Optimizer(adam({ learningRate: 0.1 }), [p]);
    b.loadState(saved);
    const before = Array.from(await p.variable.data());
    a.step(new Map([['w', g]]));
    const viaA = Array.from(await p.variable.data());
    p.variable.assign(tf.tensor1d(before));
    b.step(new Map([['w', g]]));
    expect(Array.from(await p.variable.data())).toEqual(viaA);
    expect(() => b.loadState({})).toThrowError(/expected an array/);
    a.dispose();
    b.dispose();
    g.dispose();
    p.variable.dispose();
  });
});

describe('schedules', () => {
  it('linear, cosine and warmup-cosine match their formulas', async () => {
    expect(linearSchedule(1, 0, 10)(5)).toBeCloseTo(0.5, 12);
    expect(linearSchedule(1, 0, 10)(20)).toBe(0);
    expect(cosineDecaySchedule(2, 100)(50)).toBeCloseTo(1, 12);
    expect(cosineDecaySchedule(2, 100, 0.1)(100)).toBeCloseTo(0.2, 12);
    const s = warmupCosineSchedule(1, 4, 14);
    expect(s(0)).toBeCloseTo(0.2, 12);
    expect(s(3)).toBeCloseTo(0.8, 12);
    expect(s(4)).toBeCloseTo(1, 12);
    expect(s(9)).toBeCloseTo(0.5, 12);
  });
  it('rejects bad values, naming them', async () => {
    expect(() => linearSchedule(-1, 0, 5)).toThrowError(/-1/);
    expect(() => adam({ learningRate: 0.1, b1: 1 })).toThrowError(/b1/);
    expect(() => sgd({ learningRate: 0.1, momentum: 1.5 })).toThrowError(/momentum/);
  });
});
