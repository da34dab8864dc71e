import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { backward } from '../backward/backward';
import { LayerNorm } from '../layers/layer-norm';
import { disposeRecord, type LayerRecord } from '../record/layer-record';
import { RecordingScope, withRecording } from '../record/recording';
import { setFusedKernels } from './fused-kernels';
import { geluErf, geluTanh } from './gelu';
import { maskedSoftmax } from './masked-softmax';
import { tokenNll } from './token-cross-entropy';
import { runOnWasm } from '../wasm/on-wasm.test-util';

// The fused forms (hand-written backward; WGSL on webgpu) against the plain TF.js ops they replace,
// differentiated by TF.js — on whichever backend the tests run (cpu in CI, webgpu under test:gpu).
async function maxRelDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const r = tf.tidy(() => tf.div(tf.max(tf.abs(tf.sub(a, b))), tf.maximum(tf.max(tf.abs(b)), 1e-12)));
  const v = (await r.data())[0]!;
  r.dispose();
  return v;
}

/** Value and input gradient of Σ f(x) ⊙ r, with fused kernels on and off. */
function bothWays(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, r: tf.Tensor) {
  const run = (on: boolean) => {
    setFusedKernels(on);
    const y = f(x);
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(f(xi), r)))(x);
    return { y, g };
  };
  return { fused: run(true), plain: run(false) };
}

afterEach(() => setFusedKernels(true));

for (const where of ['test backend', 'wasm'] as const) describe(`fused kernels equal the plain ops they replace (${where})`, () => {
  if (where === 'wasm') runOnWasm();

  it('geluTanh: value and gradient, including large |x| (no NaN from tanh)', async () => {
    const x = tf.concat([tf.randomNormal([3, 37], 0, 2, 'float32', 1).reshape([-1]), tf.tensor1d([-30, -9, 0, 9, 30])]);
    const r = tf.randomNormal(x.shape, 0, 1, 'float32', 2);
    const { fused, plain } = bothWays(geluTanh, x, r);
    expect(await maxRelDiff(fused.y, plain.y)).toBeLessThan(1e-5);
    expect(await maxRelDiff(fused.g, plain.g)).toBeLessThan(1e-5);
    tf.dispose([x, r, fused.y, fused.g, plain.y, plain.g]);
  });

  it('geluErf: value and gradient, including large |x|, and float64 values', async () => {
    const x = tf.concat([tf.randomNormal([3, 37], 0, 2, 'float32', 3).reshape([-1]), tf.tensor1d([-30, -9, -1e-3, 0, 1e-3, 9, 30])]);
    const r = tf.randomNormal(x.shape, 0, 1, 'float32', 4);
    const { fused, plain } = bothWays(geluErf, x, r);
    expect(await maxRelDiff(fused.y, plain.y)).toBeLessThan(1e-5);
    expect(await maxRelDiff(fused.g, plain.g)).toBeLessThan(1e-5);
    // float64: x Φ(x) with Φ from erf's series, summed exactly enough at these |x| ≤ 5
    const xs = Array.from(await x.data());
    const ys = await fused.y.data();
    const erf = (z: number) => {
      let term = z;
      let sum = z;
      for (let n = 1; n < 200; n++) sum += (term *= (-z * z) / n) / (2 * n + 1);
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    xs.forEach((v, i) => {
      if (Math.abs(v) <= 5) expect(Math.abs(ys[i]! - 0.5 * v * (1 + erf(v / Math.SQRT2)))).toBeLessThan(2e-6 * Math.max(1, Math.abs(v)));
    });
    tf.dispose([x, r, fused.y, fused.g, plain.y, plain.g]);
  });

  for (const causal of [true, false]) {
    it(`maskedSoftmax (causal ${causal}): value and gradient over [B, H, T, T] rows`, async () => {
      const s = tf.randomNormal([2, 3, 7, 7], 0, 3, 'float32', 3);
      const r = tf.randomNormal(s.shape, 0, 1, 'float32', 4);
      const o = { scale: 0.37, causal };
      const { fused, plain } = bothWays((x) => maskedSoftmax(x, o), s, r);
      expect(await maxRelDiff(fused.y, plain.y)).toBeLessThan(1e-5);
      expect(await maxRelDiff(fused.g, plain.g)).toBeLessThan(1e-5);
      if (causal) expect((await fused.y.data())[1]).toBe(0); // row 0 sees key 0 only
      tf.dispose([s, r, fused.y, fused.g, plain.y, plain.g]);
    });
  }

  it('LayerNorm in a recorded step: output, input gradient and record (x̂, dy); rows longer than a workgroup', async () => {
    const ln = new LayerNorm({ name: 'ln', dim: 300 });
    ln.gamma.variable.assign(tf.randomNormal([300], 1, 0.3, 'float32', 5));
    ln.beta.variable.assign(tf.randomNormal([300], 0, 0.3, 'float32', 6));
    const x = tf.add(tf.randomNormal([2, 5, 300], 0, 2, 'float32', 7), 40); // a large mean: no cancellation allowed
    const r = tf.randomNormal([2, 5, 300], 0, 1, 'float32', 8);
    const run = (on: boolean) => {
      setFusedKernels(on);
      const records: LayerRecord[] = [];
      const anchor = tf.scalar(0);
      const scope = new RecordingScope(anchor, { onRecord: (rec) => records.push(rec) });
      const out = backward(() => withRecording(scope, () => tf.sum(tf.mul(ln.apply(x), r)) as tf.Scalar), [x, anchor]);
      anchor.dispose();
      return { value: out.value, dx: out.grads[0]!, record: records[0]!, rest: out.grads.slice(1) };
    };
    const fused = run(true);
    const plain = run(false);
    expect(await maxRelDiff(fused.value, plain.value)).toBeLessThan(1e-4);
    expect(await maxRelDiff(fused.dx, plain.dx)).toBeLessThan(1e-4);
    expect(await maxRelDiff(fused.record.activation!, plain.record.activation!)).toBeLessThan(1e-4);
    expect(await maxRelDiff(fused.record.gradOutput, plain.record.gradOutput)).toBeLessThan(1e-6);
    for (const o of [fused, plain]) {
      disposeRecord(o.record);
      tf.dispose([o.value, o.dx, ...o.rest]);
    }
    tf.dispose([x, r]);
    ln.dispose();
  });
  it('LayerNorm of a pre-LN block (its input also feeds the residual): input gradient as plain ops, the residual\'s gradient added in the layer norm\'s launch', async () => {
    const ln = new LayerNorm({ name: 'ln', dim: 40 });
    ln.gamma.variable.assign(tf.randomNormal([40], 1, 0.3, 'float32', 15));
    const x = tf.randomNormal([2, 3, 40], 0, 2, 'float32', 16);
    const r = tf.randomNormal([2, 3, 40], 0, 1, 'float32', 17);
    const run = async (on: boolean) => {
      setFusedKernels(on);
      const records: LayerRecord[] = [];
      const anchor = tf.scalar(0);
      const scope = new RecordingScope(anchor, { onRecord: (rec) => records.push(rec) });
      let out!: ReturnType<typeof backward>;
      // x + 2·ln(x): the residual's gradient r reaches x first, the layer norm's second
      const profile = await tf.profile(() => void (out = backward(() => withRecording(scope, () => tf.sum(tf.mul(tf.add(x, tf.mul(ln.apply(x), 2)), r)) as tf.Scalar), [x, anchor])));
      anchor.dispose();
      records.forEach(disposeRecord);
      return { dx: out.grads[0]!, rest: [out.value, ...out.grads.slice(1)], adds: profile.kernels.filter((k) => k.name === 'Add').length };
    };
    const fused = await run(true);
    const plain = await run(false);
    expect(await maxRelDiff(fused.dx, plain.dx)).toBeLessThan(1e-5);
    // forward's x + 2·ln(x) is the one Add: with the fused layer norm (webgpu), x's two gradients meet in its launch
    if (tf.getBackend() === 'webgpu') expect(fused.adds).toBe(1);
    for (const o of [fused, plain]) tf.dispose([o.dx, ...o.rest]);
    tf.dispose([x, r]);
    ln.dispose();
  });

  it('tokenNll: value and gradient over [B, T, V] rows (V longer than a workgroup, large logits), and float64 by hand', async () => {
    const z = tf.mul(tf.randomNormal([2, 3, 301], 0, 1, 'float32', 11), 30); // |z| up to ~100: needs the max shift
    const labels = tf.tensor2d([[0, 300, 17], [5, 150, 299]], [2, 3], 'int32');
    const r = tf.randomNormal([2, 3], 0, 1, 'float32', 12);
    const { fused, plain } = bothWays((x) => tokenNll(x, labels), z, r);
    expect(await maxRelDiff(fused.y, plain.y)).toBeLessThan(1e-5);
    expect(await maxRelDiff(fused.g, plain.g)).toBeLessThan(1e-5);
    // −log softmax by hand in float64
    const zs = await z.data();
    const ls = await labels.data();
    const got = await fused.y.data();
    for (let row = 0; row < 6; row++) {
      const zr = Array.from(zs.subarray(row * 301, (row + 1) * 301));
      const m = Math.max(...zr);
      const want = Math.log(zr.reduce((a, v) => a + Math.exp(v - m), 0)) + m - zr[ls[row]!]!;
      expect(got[row]!).toBeCloseTo(want, 3);
    }
    tf.dispose([z, labels, r, fused.y, fused.g, plain.y, plain.g]);
  });

  it('tokenNll rejects labels whose shape is not the logits\' without the last axis', () => {
    expect(() => tokenNll(tf.zeros([2, 3, 5]), tf.zeros([2, 4], 'int32'))).toThrow(/labels \[2,4\] must be logits \[2,3,5\]/);
  });
});
