import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { recordedBackward } from '../record/recorded-backward';
import { disposeRecord, type LayerRecord } from '../record/layer-record';
import { Embedding } from './embedding';
import { LayerNorm } from './layer-norm';
import { Linear } from './linear';
import { LoraAdapter } from './lora-adapter';
import { collectParams } from './collect-params';
import { setTrainable } from './set-trainable';

// Frozen parameters: their layers hand no record for them (none at all when nothing trains), still
// pass dx on, and keep no activation for a frozen weight; LoRA is two ordinary linear records.
describe('frozen parameters and LoRA layers', () => {
  it('records only trainable parameters, and the input gradient equals plain autodiff', async () => {
    const emb = new Embedding({ name: 'emb', numEmbeddings: 11, dim: 6 });
    const ln = new LayerNorm({ name: 'ln', dim: 6 });
    const fc = new Linear({ name: 'fc', inFeatures: 6, outFeatures: 5, layout: 'in_out' });
    const out = new Linear({ name: 'out', inFeatures: 5, outFeatures: 3 });
    const lora = new LoraAdapter(out, { rank: 2, alpha: 4, seed: 1 });
    out.setAdapter(lora);
    tf.tidy(() => lora.b.weight.variable.assign(tf.randomNormal([3, 2], 0, 1, 'float32', 3)));
    tf.tidy(() => ln.beta.variable.assign(tf.randomNormal([6], 0, 1, 'float32', 4)));
    setTrainable([emb.weight, ln.gamma, fc.weight, out.weight, out.bias!], false); // trains: ln β, fc bias, A, B
    const layers = [emb, ln, fc, out, lora.a, lora.b];
    expect(collectParams(layers).map((p) => p.name)).toEqual(['ln.bias', 'fc.bias', 'out.lora_A.weight', 'out.lora_B.weight']);
    const ids = tf.tensor2d([[1, 2, 3], [4, 5, 10]], [2, 3], 'int32');
    const loss = (h0: tf.Tensor) => tf.sum(tf.square(out.apply(tf.relu(fc.apply(ln.apply(h0)))))) as tf.Scalar;
    const records: LayerRecord[] = [];
    const before = tf.memory().numTensors;
    recordedBackward(() => loss(emb.apply(ids)), { onRecord: (r) => records.push(r) }).loss.dispose();
    expect(records.map((r) => `${r.layer}:${Object.keys(r.params)}:${r.activation ? 'a' : '-'}`)).toEqual([
      'out.lora_B:weight:a', 'out.lora_A:weight:a', 'fc:bias:-', 'ln:bias:-',
    ]);
    // ln's β gradient Σ_t dy, through the frozen out and fc: TF.js's own gradient of the same loss
    const h0 = tf.tidy(() => emb.apply(ids));
    const dBeta = tf.tidy(() => tf.grad((b: tf.Tensor) => {
      const { mean, variance } = tf.moments(h0, -1, true);
      const y = tf.add(tf.mul(tf.div(tf.sub(h0, mean), tf.sqrt(tf.add(variance, 1e-5))), ln.gamma.variable), b);
      return tf.sum(tf.square(out.apply(tf.relu(fc.apply(y)))));
    })(ln.beta.variable));
    const ours = tf.tidy(() => tf.sum(records[3]!.gradOutput, [0, 1]));
    const [a, b] = [await ours.data(), await dBeta.data()];
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 4));
    records.forEach(disposeRecord);
    tf.dispose([ours, dBeta, h0]);
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    for (const l of layers) l.dispose();
  });

  it('LoRA validates its rank and alpha', () => {
    const fc = new Linear({ name: 'fc', inFeatures: 4, outFeatures: 2 });
    expect(() => new LoraAdapter(fc, { rank: 0 })).toThrow(/fc: rank must be a positive integer, got 0/);
    expect(() => new LoraAdapter(fc, { rank: 2, alpha: 0 })).toThrow(/alpha must be a positive number, got 0/);
    fc.dispose();
  });
});
