import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { backward } from '../backward/backward';
import { disposeRecord, type LayerRecord } from '../record/layer-record';
import { RecordingScope, withRecording } from '../record/recording';
import { addResidual } from '../residual-add';
import { applyActivation } from '../fused/gelu';
import { Linear } from './linear';
import { LoraAdapter } from './lora-adapter';
import { setTrainable } from './set-trainable';

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

interface Run {
  readonly value: tf.Tensor;
  readonly dx: tf.Tensor;
  readonly rest: tf.Tensor[];
  readonly records: LayerRecord[];
}

/** The fused run against the plain one: value, input gradient and records (then both freed). */
async function expectSameRuns(fused: Run, plain: Run, records: number): Promise<void> {
  expect(await maxAbsDiff(fused.value, plain.value)).toBeLessThan(1e-3);
  expect(await maxAbsDiff(fused.dx, plain.dx)).toBeLessThan(1e-5);
  expect(fused.records.map((rec) => rec.layer)).toEqual(plain.records.map((rec) => rec.layer));
  expect(fused.records.length).toBe(records);
  for (let i = 0; i < fused.records.length; i++) {
    expect(await maxAbsDiff(fused.records[i]!.gradOutput, plain.records[i]!.gradOutput)).toBeLessThan(1e-6);
    if (fused.records[i]!.activation) expect(await maxAbsDiff(fused.records[i]!.activation!, plain.records[i]!.activation!)).toBe(0);
  }
  for (const o of [fused, plain]) {
    o.records.forEach(disposeRecord);
    tf.dispose([o.value, o.dx, ...o.rest]);
  }
}

// Linear.applyPlus(x, r) = r + (x W + b) with the add in the matmul's launch: the same value, input
// gradients and record as addResidual(r, layer.apply(x)), trained, frozen (no record) and with LoRA.
describe('Linear.applyPlus (a residual add in the product\'s epilogue)', () => {
  for (const mode of ['trained', 'frozen', 'lora'] as const) {
    it(`${mode}: value, both input gradients and the records equal addResidual(r, apply(x))`, async () => {
      const lin = new Linear({ name: `proj_${mode}`, inFeatures: 20, outFeatures: 24, layout: 'in_out' });
      tf.tidy(() => lin.bias!.variable.assign(tf.randomNormal([24], 0, 1, 'float32', 2)));
      const lora = mode === 'lora' ? new LoraAdapter(lin, { rank: 2, alpha: 4, seed: 3 }) : null;
      if (lora) {
        lin.setAdapter(lora);
        tf.tidy(() => lora.b.weight.variable.assign(tf.randomNormal([24, 2], 0, 1, 'float32', 4)));
      }
      if (mode !== 'trained') setTrainable([lin.weight, lin.bias!], false);
      const x = tf.randomNormal([3, 5, 20], 0, 1, 'float32', 5);
      const r = tf.randomNormal([3, 5, 24], 0, 1, 'float32', 6);
      const w = tf.randomNormal([3, 5, 24], 0, 1, 'float32', 7);
      const run = (fused: boolean) => {
        const records: LayerRecord[] = [];
        const anchor = tf.scalar(0);
        const scope = new RecordingScope(anchor, { onRecord: (rec) => records.push(rec) });
        const y = () => (fused ? lin.applyPlus(x, r) : addResidual(r, lin.apply(x)));
        // r also reaches the loss directly: its gradient is the sum of both uses
        const out = backward(() => withRecording(scope, () => tf.add(tf.sum(tf.mul(y(), w)), tf.sum(tf.square(r))) as tf.Scalar), [x, r, anchor]);
        anchor.dispose();
        // dr first among the rest: compared here, freed with them
        return { value: out.value, dx: out.grads[0]!, rest: out.grads.slice(1), records };
      };
      const before = tf.memory().numTensors;
      const fused = run(true);
      const plain = run(false);
      expect(await maxAbsDiff(fused.rest[0]!, plain.rest[0]!)).toBeLessThan(1e-6);
      await expectSameRuns(fused, plain, mode === 'trained' ? 1 : mode === 'lora' ? 2 : 0);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, r, w]);
      lin.dispose();
      if (lora) for (const l of [lora.a, lora.b]) l.dispose();
    });
  }

  it('outside a recorded step it is r + x W + b; a residual of another shape is refused', async () => {
    const lin = new Linear({ name: 'plain', inFeatures: 4, outFeatures: 3 });
    const x = tf.randomNormal([2, 4], 0, 1, 'float32', 8);
    const r = tf.randomNormal([2, 3], 0, 1, 'float32', 9);
    const got = lin.applyPlus(x, r);
    const want = tf.add(r, lin.apply(x));
    expect(await maxAbsDiff(got, want)).toBeLessThan(1e-6);
    expect(() => lin.applyPlus(x, tf.zeros([2, 4]))).toThrow(/Linear plain: the residual must be float32 \[2,3\] \(the output's shape\), got float32 \[2,4\]/);
    tf.dispose([x, r, got, want]);
    lin.dispose();
  });
});

// Linear.applyAct(x, act) = act(x W + b) with the activation in the matmul's epilogue: the same value,
// input gradient and record (dy of the pre-activation) as act(layer.apply(x)).
describe('Linear.applyAct (GELU in the product\'s epilogue)', () => {
  for (const [mode, act, layout] of [['trained', 'geluTanh', 'in_out'], ['trained', 'geluErf', 'out_in'], ['frozen', 'geluTanh', 'in_out'], ['lora', 'geluErf', 'in_out']] as const) {
    it(`${mode}, ${act}, ${layout}: value, input gradient and records equal act(apply(x))`, async () => {
      const lin = new Linear({ name: `fc_${mode}_${act}`, inFeatures: 20, outFeatures: 36, layout });
      tf.tidy(() => lin.bias!.variable.assign(tf.randomNormal([36], 0, 1, 'float32', 12)));
      const lora = mode === 'lora' ? new LoraAdapter(lin, { rank: 2, alpha: 4, seed: 13 }) : null;
      if (lora) lin.setAdapter(lora);
      if (mode !== 'trained') setTrainable([lin.weight, lin.bias!], false);
      const x = tf.randomNormal([3, 5, 20], 0, 1, 'float32', 14);
      const w = tf.randomNormal([3, 5, 36], 0, 1, 'float32', 15);
      const run = (fused: boolean) => {
        const records: LayerRecord[] = [];
        const anchor = tf.scalar(0);
        const scope = new RecordingScope(anchor, { onRecord: (rec) => records.push(rec) });
        const y = () => (fused ? lin.applyAct(x, act) : applyActivation(act, lin.apply(x)));
        const out = backward(() => withRecording(scope, () => tf.sum(tf.mul(y(), w)) as tf.Scalar), [x, anchor]);
        anchor.dispose();
        return { value: out.value, dx: out.grads[0]!, rest: out.grads.slice(1), records };
      };
      const before = tf.memory().numTensors;
      await expectSameRuns(run(true), run(false), mode === 'trained' ? 1 : mode === 'lora' ? 2 : 0);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w]);
      lin.dispose();
      if (lora) for (const l of [lora.a, lora.b]) l.dispose();
    });
  }
});
