import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createParam } from '@clipwise/core';
import { Optimizer } from './optimizer';
import { adamw, sgd } from './transforms/adam';

const param = (name: string, values: Float32Array | number[], shape: number[]) =>
  createParam({ name, layer: name, kind: 'linear', role: 'weight', shape, init: () => tf.tensor(values, shape), order: 0 });

describe('Optimizer.stateParts', () => {
  it('round-trips AdamW: the restored optimizer takes the same next step as the original', async () => {
    const ps = [param('h.0.w', [0.5, -1, 2, 0.25], [2, 2]), param('h.0.b', [0.1, -0.2], [2])];
    const grads = () => new Map(ps.map((p, i) => [p.name, tf.fill(p.variable.shape, 0.3 * (i + 1) - 0.1)]));
    const a = new Optimizer(adamw({ learningRate: 0.05, weightDecay: 0.1 }), ps);
    a.step(grads());
    a.step(grads());
    const { structure, tensors } = await a.stateParts();
    // the structure names the tensors; their values are apart
    expect(JSON.stringify(structure)).not.toMatch(/\$tensor/);
    expect(Object.keys(tensors).length).toBeGreaterThanOrEqual(4);
    expect(Object.values(tensors).every((t) => t.data.length === t.shape.reduce((x, y) => x * y, 1))).toBe(true);
    const b = new Optimizer(adamw({ learningRate: 0.05, weightDecay: 0.1 }), ps);
    b.loadState(JSON.parse(JSON.stringify(structure)), tensors);
    const before = await Promise.all(ps.map((p) => p.variable.data()));
    a.step(grads());
    const viaA = await Promise.all(ps.map(async (p) => Array.from(await p.variable.data())));
    ps.forEach((p, i) => p.variable.assign(tf.tensor(before[i]!, p.variable.shape)));
    b.step(grads());
    expect(await Promise.all(ps.map(async (p) => Array.from(await p.variable.data())))).toEqual(viaA);
    a.dispose();
    b.dispose();
  });

  it('names a missing or misshapen tensor', async () => {
    const p = param('w', [1, 2, 3], [3]);
    const a = new Optimizer(sgd({ learningRate: 0.1, momentum: 0.9 }), [p]);
    a.step(new Map([['w', tf.ones([3])]]));
    const { structure, tensors } = await a.stateParts();
    const [name] = Object.keys(tensors);
    expect(() => a.loadState(structure, {})).toThrowError(new RegExp(`'${name!.replace(/[[\].]/g, '\\$&')}' it refers to is not among the saved tensors`));
    expect(() => a.loadState(structure, { [name!]: { shape: [4], dtype: 'float32', data: new Float32Array(4) } })).toThrowError(/expected a tensor of shape \[3\], got \[4\]/);
    a.dispose();
  });

  // The study's 12 M-parameter GPT-2 crashed at its first checkpoint with "Invalid string length": its
  // Adam moments, 25 M numbers of about 20 characters, pass V8's string limit (2^29 characters) as
  // one JSON. Here 30 M moments go to typed arrays and the JSON is a few hundred bytes.
  it('saves Adam moments past what one JSON string holds', async () => {
    const n = 15_000_000;
    const p = param('big', new Float32Array(n).fill(0.5), [n]);
    const a = new Optimizer(adamw({ learningRate: 0.01 }), [p]);
    const g = tf.fill([n], 0.123);
    a.step(new Map([['big', g]]));
    const { structure, tensors } = await a.stateParts();
    expect(JSON.stringify(structure).length).toBeLessThan(1000);
    const moments = Object.values(tensors).filter((t) => t.data.length === n);
    // float64 references of the first moment (1 − β₁) g and the second (1 − β₂) g²
    const want = [0.1 * 0.123, 0.001 * 0.123 ** 2];
    moments.forEach((t, i) => expect(Math.abs(t.data[n - 1]! / want[i]! - 1)).toBeLessThan(1e-6));
    const b = new Optimizer(adamw({ learningRate: 0.01 }), [p]);
    b.loadState(structure, tensors);
    const restored = await b.stateParts();
    expect(Object.values(restored.tensors).map((t) => t.data[n - 1])).toEqual(Object.values(tensors).map((t) => t.data[n - 1]));
    a.dispose();
    b.dispose();
    g.dispose();
    p.variable.dispose();
  }, 60_000);
});
