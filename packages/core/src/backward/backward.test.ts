import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ClipwisePrivacyError } from '../errors';
import { Conv2d } from '../layers/conv2d';
import { LayerNorm } from '../layers/layer-norm';
import { Linear } from '../layers/linear';
import { ClassToken, PositionalEmbedding } from '../layers/positional-embedding';
import { disposeRecord } from '../record/layer-record';
import { RecordingScope, withRecording } from '../record/recording';
import { backward } from './backward';

async function relErr(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [num, den] = tf.tidy(() => [tf.norm(tf.sub(a, b)), tf.norm(b)]);
  const r = (await num!.data())[0]! / (await den!.data())[0]!;
  tf.dispose([num!, den!]);
  return r;
}

describe('backward (memory-freeing pass)', () => {
  it('equals tf.grads on a plain graph with fan-out and multi-output ops', async () => {
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const w = tf.randomNormal([4, 4], 0, 1, 'float32', 2);
    const f = (a: tf.Tensor, b: tf.Tensor) => {
      const h = tf.tanh(tf.matMul(a, b));
      const [p, q] = tf.split(h, 2, 1);
      return tf.add(tf.sum(tf.mul(p!, q!)), tf.sum(tf.square(tf.matMul(h, b)))) as tf.Scalar;
    };
    const ours = backward(() => f(x, w), [x, w]);
    const ref = tf.grads(f)([x, w]);
    expect(await relErr(ours.grads[0]!, ref[0]!)).toBeLessThan(1e-6);
    expect(await relErr(ours.grads[1]!, ref[1]!)).toBeLessThan(1e-6);
    tf.dispose([x, w, ours.value, ...ours.grads, ...ref]);
  });

  it("DP layers' input gradients equal TF.js autodiff of the same layers run as plain ops", async () => {
    const conv = new Conv2d({ name: 'c', inChannels: 2, outChannels: 4, kernelSize: 2, stride: 2 });
    const cls = new ClassToken({ name: 'cls', dim: 4 });
    const pos = new PositionalEmbedding({ name: 'pos', maxPositions: 7, dim: 4 });
    const ln = new LayerNorm({ name: 'ln', dim: 4 });
    const fc = new Linear({ name: 'fc', inFeatures: 4, outFeatures: 3 });
    ln.gamma.variable.assign(tf.randomNormal([4], 1, 0.5));
    const x = tf.randomNormal([2, 2, 4, 6]);
    const f = (input: tf.Tensor) => {
      const h = conv.apply(input); // [2, 2, 3, 4]
      const seq = cls.apply(h.reshape([2, 6, 4]));
      return tf.sum(tf.sin(fc.apply(ln.apply(pos.apply(seq))))) as tf.Scalar;
    };
    const plain = tf.grad(f)(x); // no recording: layers are plain TF.js ops
    const records: Parameters<Parameters<typeof withRecording>[0]['recorder']['onRecord']>[0][] = [];
    const anchor = tf.scalar(0);
    const scope = new RecordingScope(anchor, { onRecord: (r) => records.push(r) });
    const ours = backward(() => withRecording(scope, () => f(x)), [x, anchor]);
    expect(await relErr(ours.grads[0]!, plain)).toBeLessThan(1e-5);
    expect(records.map((r) => r.layer)).toEqual(['fc', 'ln', 'pos', 'cls', 'c']);
    expect(scope.uses.get('fc.weight')).toBe(1);
    records.forEach(disposeRecord);
    tf.dispose([x, plain, anchor, ours.value, ...ours.grads]);
    [conv, cls, pos, ln, fc].forEach((l) => l.dispose());
  });

  it('refuses a trainable variable used outside DP-aware layers, naming it', async () => {
    const raw = tf.variable(tf.ones([3]), true, 'raw_bias_for_test');
    const fc = new Linear({ name: 'fc2', inFeatures: 3, outFeatures: 3 });
    const anchor = tf.scalar(0);
    const scope = new RecordingScope(anchor, { onRecord: disposeRecord });
    const before = tf.memory().numTensors;
    expect(() =>
      backward(() => withRecording(scope, () => tf.sum(tf.add(fc.apply(tf.ones([2, 3])), raw)) as tf.Scalar), [anchor]),
    ).toThrowError(ClipwisePrivacyError);
    expect(() =>
      backward(() => withRecording(scope, () => tf.sum(tf.add(fc.apply(tf.ones([2, 3])), raw)) as tf.Scalar), [anchor]),
    ).toThrowError(/raw_bias_for_test \[3\]/);
    expect(tf.memory().numTensors).toBe(before);
    // a frozen (non-trainable) variable is fine
    const frozen = tf.variable(tf.ones([3]), false);
    const ok = backward(() => withRecording(scope, () => tf.sum(tf.add(fc.apply(tf.ones([2, 3])), frozen)) as tf.Scalar), [anchor]);
    tf.dispose([ok.value, ...ok.grads, raw, frozen, anchor]);
    fc.dispose();
  });

  it('frees intermediate gradients: lower peak bytes than TF.js engine.gradients on a deep stack', async () => {
    const layers = Array.from({ length: 8 }, (_, i) => new Linear({ name: `deep${i}`, inFeatures: 64, outFeatures: 64 }));
    const x = tf.randomNormal([16, 8, 64]);
    const anchor = tf.scalar(0);
    const scope = new RecordingScope(anchor, { onRecord: disposeRecord });
    const f = () => withRecording(scope, () => tf.sum(layers.reduce((h, l) => tf.tanh(l.apply(h)), x)) as tf.Scalar);
    const peak = (mode: 'freeing' | 'tfjs') => {
      const numTensors = tf.memory().numTensors;
      const profile = tf.profile(() => {
        const r = backward(f, [anchor], { mode });
        tf.dispose([r.value, ...r.grads]);
      });
      return profile.then((p) => ({ peak: p.peakBytes, leaked: tf.memory().numTensors - numTensors }));
    };
    return Promise.all([]).then(async () => {
      const tfjs = await peak('tfjs');
      const ours = await peak('freeing');
      expect(ours.leaked).toBe(0);
      expect(tfjs.leaked).toBe(0);
      expect(ours.peak).toBeLessThan(tfjs.peak);
      tf.dispose([x, anchor]);
      layers.forEach((l) => l.dispose());
    });
  });
});
