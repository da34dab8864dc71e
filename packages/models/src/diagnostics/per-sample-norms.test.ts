import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { bruteForcePerSampleGrads, sqNormsOf } from '@clipwise/ghost-norm';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';
import { VitModel } from '../vit/vit-model.js';
import { formatNormTable, quantile } from './format-norm-table.js';
import { perSampleNorms, type PerSampleNormsResult } from './per-sample-norms.js';

const gpt2Config = { vocab_size: 17, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 };
const vitConfig = { image_size: 8, patch_size: 4, num_channels: 3, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, num_labels: 5 };
const inputIds = [
  [1, 5, 3, 3, 9, 2],
  [16, 0, 4, 4, 4, 7],
  [2, 2, 11, 8, 1, 0],
];

/** Reference norms: per-sample gradients formed one sample at a time with tf.grad. */
async function bruteNorms(model: PretrainedModel, sampleLoss: (i: number) => tf.Scalar, batch: number): Promise<Map<string, number[]>> {
  const grads = bruteForcePerSampleGrads(sampleLoss, model.params, batch);
  const out = new Map<string, number[]>();
  for (const [name, g] of grads) {
    const sq = sqNormsOf(g);
    out.set(name, Array.from(await sq.data(), Math.sqrt));
    tf.dispose([sq, g]);
  }
  return out;
}

/**
 * Largest relative error over parameters and samples. Norms below 1e-6 (ViT's key bias, whose
 * true gradient is exactly zero because softmax ignores a shift shared by all keys) are compared absolutely.
 */
function worstRelErr(ours: PerSampleNormsResult, want: Map<string, number[]>): { name: string; err: number } {
  let worst = { name: '', err: 0 };
  for (const [name, w] of want) {
    const o = ours.per_sample_param_norms[name]!;
    w.forEach((x, i) => {
      const err = Math.abs(o[i]! - x) / Math.max(x, 1e-6);
      if (err > worst.err) worst = { name, err };
    });
  }
  return worst;
}

describe('perSampleNorms', () => {
  it('GPT-2: equals brute-force per-sample gradient norms for every parameter (tied embedding once), frees every tensor', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 3 });
    const before = tf.memory().numTensors;
    const result = await perSampleNorms(m, { input_ids: inputIds });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(result.per_sample_param_norms)).toEqual(m.params.map((p) => p.name));
    expect(result.per_sample_param_norms['lm_head.weight']).toBeUndefined();

    const ids = tf.tensor2d(inputIds, [3, 6], 'int32');
    const want = await bruteNorms(m, (i) => tf.sum(m.perSampleLoss(ids.slice([i], [1]))) as tf.Scalar, 3);
    const losses = m.perSampleLoss(ids);
    const worst = worstRelErr(result, want);
    expect(worst.err, worst.name).toBeLessThan(1e-4);
    Array.from(await losses.data()).forEach((l, i) => expect(result.loss_per_sample[i]).toBeCloseTo(l, 5));
    tf.dispose([ids, losses]);
    m.dispose();
  });

  it('ViT: equals brute-force per-sample gradient norms for every parameter', async () => {
    const m = new VitModel(vitConfig, { seed: 4 });
    const x = tf.randomNormal([3, 3, 8, 8], 0, 1, 'float32', 11) as tf.Tensor4D;
    const labels = [1, 4, 0];
    const pixelValues = (await x.array()) as number[][][][];
    await perSampleNorms(m, { pixel_values: pixelValues, labels }); // the patch embedding caches its unfold filter on first use
    const before = tf.memory().numTensors;
    const result = await perSampleNorms(m, { pixel_values: pixelValues, labels });
    expect(tf.memory().numTensors).toBe(before);

    const y = tf.tensor1d(labels, 'int32');
    const want = await bruteNorms(m, (i) => tf.sum(m.perSampleLoss(x.slice([i], [1]), y.slice([i], [1]))) as tf.Scalar, 3);
    const worst = worstRelErr(result, want);
    expect(worst.err, worst.name).toBeLessThan(1e-4);
    expect(result.loss_per_sample).toHaveLength(3);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('group norms are the root of the summed squared norms of their members, with C_m = C/√M', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 5 });
    const result = await perSampleNorms(m, { input_ids: inputIds }, { grouping: 'uniform:2', clipNorm: 2 });
    const groups = result.per_sample_group_norms!;
    expect(Object.keys(groups)).toEqual(['group-0', 'group-1']);
    expect(result.group_thresholds).toEqual({ 'group-0': 2 / Math.SQRT2, 'group-1': 2 / Math.SQRT2 });
    const all = (i: number) => Object.values(result.per_sample_param_norms).reduce((s, n) => s + n[i]! ** 2, 0);
    const grouped = (i: number) => Object.values(groups).reduce((s, n) => s + n[i]! ** 2, 0);
    for (let i = 0; i < 3; i++) expect(Math.abs(grouped(i) - all(i)) / all(i)).toBeLessThan(1e-12);

    const table = formatNormTable(result);
    expect(table.split('\n')[0]).toMatch(/^per-sample gradient norms, B = 3, mean loss \d/);
    expect(table.split('\n')[1]).toMatch(/^group\s+min\s+p25\s+median\s+p75\s+max\s+C_m\s+clipped$/);
    expect(table).toContain('group-1');
    expect(table).toMatch(/\(all parameters\)/);
    const perParam = formatNormTable(result, { by: 'param' });
    expect(perParam).toContain('transformer.wte.weight');
    expect(perParam.split('\n')).toHaveLength(2 + m.params.length + 1);
    m.dispose();
  });

  it('quantiles interpolate linearly between order statistics', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([4, 1, 3, 2], 0.25)).toBe(1.75);
    expect(quantile([7], 0.75)).toBe(7);
    expect(quantile([1, 9], 1)).toBe(9);
  });

  it('refuses bad input with a message naming the entry', async () => {
    const gpt2 = new Gpt2Model(gpt2Config, { seed: 6 });
    const vit = new VitModel(vitConfig, { seed: 6 });
    const before = tf.memory().numTensors;
    const img = () => Array.from({ length: 3 }, () => Array.from({ length: 8 }, () => new Array<number>(8).fill(0.5)));
    const cases: Array<[() => unknown, RegExp]> = [
      [() => perSampleNorms(gpt2, { input_ids: [[1, 2, 3], [4, 5]] }), /input_ids\[1\] has 2 ids but input_ids\[0\] has 3: ragged/],
      [() => perSampleNorms(gpt2, { input_ids: [[1, 2, 17]] }), /input_ids\[0\]\[2\] = 17 is not a token id in \[0, 17\)/],
      [() => perSampleNorms(gpt2, { input_ids: [[1, 2.5]] }), /input_ids\[0\]\[1\] = 2.5/],
      [() => perSampleNorms(gpt2, { input_ids: [[1]] }), /2 to 8 token ids/],
      [() => perSampleNorms(gpt2, { input_ids: [] }), /input_ids is empty/],
      [() => perSampleNorms(gpt2, { pixel_values: [img()], labels: [0] }), /GPT-2 model needs \{ input_ids/],
      [() => perSampleNorms(vit, { input_ids: [[1, 2]] }), /ViT model needs \{ pixel_values/],
      [() => perSampleNorms(vit, { pixel_values: [img().slice(0, 2)], labels: [0] }), /pixel_values\[0\] has length 2, expected 3: pixel_values must be \[B, 3, 8, 8\]/],
      [() => perSampleNorms(vit, { pixel_values: [[...img().slice(0, 2), img()[0]!.slice(1)]], labels: [0] }), /pixel_values\[0\]\[2\] has length 7, expected 8/],
      [() => perSampleNorms(vit, { pixel_values: [img(), img()], labels: [0] }), /1 labels for 2 images/],
      [() => perSampleNorms(vit, { pixel_values: [img()], labels: [5] }), /labels\[0\] = 5 is not a class in \[0, 5\)/],
    ];
    for (const [f, message] of cases) {
      await expect(f()).rejects.toThrow(ClipwiseModelError);
      await expect(f()).rejects.toThrow(message);
    }
    await expect(perSampleNorms(gpt2, { input_ids: inputIds }, { grouping: 'no-such-strategy' })).rejects.toThrow(/no-such-strategy/);
    expect(tf.memory().numTensors).toBe(before);
    gpt2.dispose();
    vit.dispose();
  });
});
