import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { disposeRecord, recordedBackward, type LayerRecord } from '@clipwise/core';
import { bruteForcePerSampleGrads, paramSqNorms, sqNormsOf } from '@clipwise/ghost-norm';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { VIT_PRESETS, validateVitConfig } from './vit-config.js';
import { VitModel } from './vit-model.js';
import { qkvParts } from './qkv-layout.js';
import { relErr } from '../../../../tooling/test/rel-err';

const config = {
  image_size: 8,
  patch_size: 4,
  num_channels: 3,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  num_labels: 5,
};

describe('ViT on DP-aware layers', () => {
  it('has the Hugging Face parameter names and shapes', async () => {
    const m = new VitModel(config, { seed: 1 });
    const names = m.params.map((p) => `${p.name}:${p.shape.join('x')}`);
    expect(names.slice(0, 4)).toEqual([
      'vit.embeddings.patch_embeddings.projection.weight:8x3x4x4',
      'vit.embeddings.patch_embeddings.projection.bias:8',
      'vit.embeddings.cls_token:1x1x8',
      'vit.embeddings.position_embeddings:1x5x8',
    ]);
    expect(names).toContain('vit.encoder.layer.1.layernorm_before.weight:8');
    expect(names).toContain('vit.encoder.layer.1.attention.attention.query.weight:8x8');
    expect(names).toContain('vit.encoder.layer.1.attention.attention.value.bias:8');
    expect(names).toContain('vit.encoder.layer.0.attention.output.dense.weight:8x8');
    expect(names).toContain('vit.encoder.layer.0.intermediate.dense.weight:16x8');
    expect(names).toContain('vit.encoder.layer.0.output.dense.weight:8x16');
    expect(names.slice(-4)).toEqual(['vit.layernorm.weight:8', 'vit.layernorm.bias:8', 'classifier.weight:5x8', 'classifier.bias:5']);
    expect(m.params).toHaveLength(4 + 16 * 2 + 2 + 2);
    m.dispose();
  });

  it('gives logits [B, num_labels] and refuses pixels of the wrong shape', async () => {
    const m = new VitModel(config, { seed: 1 });
    const x = tf.randomNormal([2, 3, 8, 8]) as tf.Tensor4D;
    const logits = m.logits(x);
    expect(logits.shape).toEqual([2, 5]);
    const bad = tf.zeros([2, 3, 16, 16]) as tf.Tensor4D;
    expect(() => m.logits(bad)).toThrow(/expected pixel values \[B, 3, 8, 8\]/);
    tf.dispose([x, logits, bad]);
    m.dispose();
  });

  it('validates configs and resolves num_labels from id2label', async () => {
    const { num_labels: _n, ...noLabels } = config;
    expect(validateVitConfig({ ...noLabels, id2label: { 0: 'a', 1: 'b', 2: 'c' } }).num_labels).toBe(3);
    expect(() => validateVitConfig(noLabels)).toThrow(/num_labels/);
    expect(() => validateVitConfig({ ...config, patch_size: 3 })).toThrow(ClipwiseModelError);
    expect(() => validateVitConfig({ ...config, hidden_act: 'relu' })).toThrow(/hidden_act 'relu'/);
    expect(VIT_PRESETS['vit-tiny']!.hidden_size).toBe(64);
  });

  it("packs q|k|v into one [3d, d] projection with qkv: 'packed', giving the separate layout's logits from the same weights", async () => {
    const separate = new VitModel(config, { seed: 3 });
    const packed = new VitModel(config, { seed: 4, qkv: 'packed' });
    const names = packed.params.map((p) => `${p.name}:${p.shape.join('x')}`);
    expect(names).toContain('vit.encoder.layer.1.attention.attention.qkv.weight:24x8');
    expect(names).toContain('vit.encoder.layer.1.attention.attention.qkv.bias:24');
    expect(names.some((n) => n.includes('.query.'))).toBe(false);
    expect(packed.params).toHaveLength(separate.params.length - 4 * 2);
    // the packed weights: query's rows, then key's, then value's
    const byName = new Map(separate.params.map((p) => [p.name, p.variable]));
    for (const p of packed.params) {
      const parts = qkvParts(p.name);
      p.variable.assign(parts ? tf.concat(parts.map((n) => byName.get(n)!), 0) : byName.get(p.name)!);
    }
    const x = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [a, b] = [separate.logits(x), packed.logits(x)];
    expect(relErr(await b.data(), await a.data())).toBeLessThan(1e-5);
    expect(() => new VitModel(config, { qkv: 'fused' as never })).toThrow(/qkv must be 'separate' or 'packed'/);
    tf.dispose([x, a, b]);
    separate.dispose();
    packed.dispose();
  });

  it.each(['separate', 'packed'] as const)('ghost per-sample norms of every parameter equal brute force, q|k|v %s (conv patches, class token, positions)', async (qkv) => {
    const m = new VitModel(config, { seed: 2, qkv });
    const x = tf.randomNormal([3, 3, 8, 8], 0, 1, 'float32', 7) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 4, 2], 'int32');
    const records: LayerRecord[] = [];
    recordedBackward(() => tf.sum(m.perSampleLoss(x, labels)) as tf.Scalar, { onRecord: (r) => records.push(r) }).loss.dispose();
    const brute = bruteForcePerSampleGrads(
      (i) => tf.sum(m.perSampleLoss(x.slice([i], [1]), labels.slice([i], [1]))) as tf.Scalar,
      m.params,
      3,
    );
    // no ViT parameter is used twice
    expect(records.flatMap((r) => Object.values(r.params).map((p) => p.name))).toHaveLength(m.params.length);
    const sq = paramSqNorms(records);
    for (const p of m.params) {
      const ours = sq.get(p.name)!;
      const want = sqNormsOf(brute.get(p.name)!);
      // The key bias's true gradient is exactly zero (softmax ignores a shift shared by all keys): both
      // sides are rounding noise (~1e-23), so squared norms below 1e-12 are compared absolutely.
      const e = tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(ours, want)), tf.maximum(want, 1e-12))));
      const err = (await e.data())[0]!;
      e.dispose();
      expect(err, p.name).toBeLessThan(1e-4);
      tf.dispose([ours, want]);
    }
    records.forEach(disposeRecord);
    tf.dispose([x, labels, ...brute.values()]);
    m.dispose();
  });
});
