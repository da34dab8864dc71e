import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { disposeRecord, recordedBackward, type LayerRecord, type ParamSpec } from '@clipwise/core';
import { bruteForcePerSampleGrads, getNormKernel, paramSqNorms, sqNormsOf } from '@clipwise/ghost-norm';
import { perSampleNorms } from '../diagnostics/per-sample-norms.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';
import { VitModel } from '../vit/vit-model.js';
import { addLora, loraAdapters } from './add-lora.js';
import { parseTrainableSpec, selectTrainable } from './trainable-spec.js';

// Per-sample norms and Book-Keeping clipped sums of the trainable subsets (bias only, LoRA A/B, with
// and without GPT-2's tied embedding) against brute force: one tf.variableGrads per sample.
// relative, float32; below 1e-4 absolute: ViT's key biases have an exactly-zero true gradient (softmax
// ignores a shift shared by all keys), so both sides are rounding noise there
const TOL = 1e-4;

const gpt2Config = { vocab_size: 17, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 };
const vitConfig = { image_size: 8, patch_size: 4, num_channels: 3, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, num_labels: 3 };
const ids = () => tf.tensor2d([[1, 5, 3, 3, 9, 2], [16, 0, 4, 4, 4, 7], [2, 2, 11, 8, 1, 0]], [3, 6], 'int32');

type Loss = (i: number | null) => tf.Tensor1D;

function gpt2Loss(m: Gpt2Model, x: tf.Tensor2D): Loss {
  return (i) => m.perSampleLoss(i === null ? x : (x.slice([i], [1]) as tf.Tensor2D));
}

function vitLoss(m: VitModel, pixels: tf.Tensor4D, labels: tf.Tensor1D): Loss {
  return (i) => (i === null ? m.perSampleLoss(pixels, labels) : m.perSampleLoss(pixels.slice([i], [1]) as tf.Tensor4D, labels.slice([i], [1]) as tf.Tensor1D));
}

/** B nonzero, so that A gets a gradient (B starts at zero, as in peft). */
function randomiseB(model: PretrainedModel): void {
  loraAdapters(model).forEach((a, k) => tf.tidy(() => a.b.weight.variable.assign(tf.randomNormal(a.b.weight.shape as number[], 0, 0.5, 'float32', 40 + k))));
}

async function relErr(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [num, den] = tf.tidy(() => [tf.norm(tf.sub(a, b)), tf.norm(b)]);
  const r = (await num!.data())[0]! / Math.max((await den!.data())[0]!, 1e-4);
  tf.dispose([num!, den!]);
  return r;
}

/**
 * Records one recorded backward, checks that they carry the trainable parameters only, and compares
 * each trainable parameter's per-sample norm and clipped sum Σ_i c_i g_i (summed over its records:
 * a tied weight has two) with brute force. Returns the records' kinds and activations for checks.
 */
async function checkAgainstBruteForce(model: PretrainedModel, loss: Loss, batch: number): Promise<LayerRecord[]> {
  const trained = model.trainableParams;
  const records: LayerRecord[] = [];
  recordedBackward(() => tf.sum(loss(null)) as tf.Scalar, { onRecord: (r) => records.push(r) }).loss.dispose();
  const names = new Set(trained.map((p) => p.name));
  for (const r of records) for (const p of Object.values(r.params)) expect(names.has(p.name), `record of ${r.layer} carries frozen ${p.name}`).toBe(true);
  const brute = bruteForcePerSampleGrads((i) => tf.sum(loss(i)) as tf.Scalar, trained, batch);
  const sq = paramSqNorms(records);
  expect([...sq.keys()].sort()).toEqual([...names].sort());
  // both norm modes of every linear record whose weight is used once (LoRA's A and B included)
  const uses = new Map<string, number>();
  for (const r of records) for (const p of Object.values(r.params)) uses.set(p.name, (uses.get(p.name) ?? 0) + 1);
  for (const r of records.filter((x) => x.kind === 'linear' && x.params['weight'] && uses.get(x.params['weight'].name) === 1)) {
    const want = sqNormsOf(brute.get(r.params['weight']!.name)!);
    for (const mode of ['ghost', 'instantiate'] as const) {
      const got = getNormKernel('linear').perSampleSqNorms(r, mode);
      expect(got['weight']!.mode).toBe(mode);
      expect(await relErr(got['weight']!.sqNorms, want), `${mode} norm of ${r.layer}`).toBeLessThan(TOL);
      tf.dispose(Object.values(got).map((x) => x.sqNorms));
    }
    want.dispose();
  }
  const c = tf.randomUniform([batch], 0.1, 1, 'float32', 5) as tf.Tensor1D;
  for (const p of trained) {
    const g = brute.get(p.name)!;
    const want = sqNormsOf(g);
    expect(await relErr(sq.get(p.name)!, want), `norm of ${p.name}`).toBeLessThan(TOL);
    const bk = tf.tidy(() => tf.addN(records.flatMap((r) => Object.entries(r.params).filter(([, q]) => q === p).map(([role]) => getNormKernel(r.kind).clippedSum(r, c, [role])[role]!))));
    const expected = tf.tidy(() => tf.sum(tf.mul(g, c.reshape([batch, ...new Array(g.rank - 1).fill(1)])), 0));
    expect(await relErr(bk, expected), `clipped sum of ${p.name}`).toBeLessThan(TOL);
    tf.dispose([want, bk, expected]);
  }
  tf.dispose([c, ...sq.values(), ...brute.values()]);
  return records;
}

const names = (ps: ParamSpec[]) => ps.map((p) => p.name);

describe('trainable subsets and LoRA: per-sample norms and clipped sums against brute force', () => {
  it('GPT-2, bias only (DP-BiTFiT): records hold dy alone, no activation, no weight, no embedding record', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 2 });
    const x = ids();
    const trained = selectTrainable(m, parseTrainableSpec('bias'));
    expect(trained.every((p) => p.name.endsWith('.bias'))).toBe(true);
    expect(trained).toHaveLength(2 * 6 + 1); // per block: ln_1, c_attn, attn.c_proj, ln_2, c_fc, mlp.c_proj; ln_f
    const records = await checkAgainstBruteForce(m, gpt2Loss(m, x), 3);
    expect(records.every((r) => r.activation === undefined)).toBe(true);
    expect(records.map((r) => r.kind)).not.toContain('embedding');
    records.forEach(disposeRecord);
    x.dispose();
    m.dispose();
  });

  it('GPT-2, LoRA on c_attn and c_proj (both attn and mlp) with the tied embedding also trained', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 3 });
    const x = ids();
    const adapters = addLora(m, { rank: 2, alpha: 4, targets: ['c_attn', 'c_proj'], seed: 1 });
    expect(adapters.map((a) => a.base.name)).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_proj', 'transformer.h.1.attn.c_attn', 'transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_proj']);
    randomiseB(m);
    expect(names(m.trainableParams)).toHaveLength(12);
    expect(names(m.trainableParams)[0]).toBe('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight');
    selectTrainable(m, parseTrainableSpec('transformer.wte'));
    expect(names(m.trainableParams)).toHaveLength(13);
    const records = await checkAgainstBruteForce(m, gpt2Loss(m, x), 3);
    expect(records.filter((r) => r.kind === 'embedding' || r.layer === 'lm_head')).toHaveLength(2);
    // the frozen bases hand no record at all (no bias trains)
    expect(records.filter((r) => r.layer.endsWith('c_attn'))).toHaveLength(0);
    records.forEach(disposeRecord);
    x.dispose();
    m.dispose();
  });

  it('ViT, LoRA on query/value plus the classifier (last:0 is refused), and bias with the classifier', async () => {
    const m = new VitModel(vitConfig, { seed: 4 });
    const pixels = tf.randomNormal([3, 3, 8, 8], 0, 1, 'float32', 9) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 2, 1], 'int32');
    addLora(m, { rank: 3, alpha: 3, targets: ['query', 'value'], seed: 2 });
    randomiseB(m);
    selectTrainable(m, parseTrainableSpec('classifier'));
    expect(names(m.trainableParams)).toHaveLength(4 * 2 + 2);
    (await checkAgainstBruteForce(m, vitLoss(m, pixels, labels), 3)).forEach(disposeRecord);
    expect(() => parseTrainableSpec('last:0')).toThrow(/positive integer/);
    const v = new VitModel(vitConfig, { seed: 5 });
    expect(parseTrainableSpec('bias,classifier')).toEqual({ union: ['bias', { prefixes: ['classifier'] }] });
    selectTrainable(v, parseTrainableSpec('bias,classifier')); // BiTFiT with the (new) head
    expect(v.trainableParams.filter((p) => !p.name.endsWith('.bias')).map((p) => p.name)).toEqual(['classifier.weight']);
    (await checkAgainstBruteForce(v, vitLoss(v, pixels, labels), 3)).forEach(disposeRecord);
    tf.dispose([pixels, labels]);
    m.dispose();
    v.dispose();
  });

  it("ViT, LoRA on query/value with peft's modules_to_save classifier: the head's weight and bias in the records", async () => {
    const m = new VitModel(vitConfig, { seed: 4 });
    const pixels = tf.randomNormal([3, 3, 8, 8], 0, 1, 'float32', 9) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 2, 1], 'int32');
    addLora(m, { rank: 3, alpha: 6, modulesToSave: ['classifier'], seed: 2 });
    randomiseB(m);
    expect(names(m.trainableParams).filter((n) => !n.includes('.lora_'))).toEqual(['classifier.weight', 'classifier.bias']);
    (await checkAgainstBruteForce(m, vitLoss(m, pixels, labels), 3)).forEach(disposeRecord);
    tf.dispose([pixels, labels]);
    m.dispose();
  });

  it('perSampleNorms reports the adapter under peft names and no frozen parameter; last:K takes the top blocks', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 6 });
    addLora(m, { rank: 2, targets: ['c_fc'] });
    const before = tf.memory().numTensors;
    const r = await perSampleNorms(m, { input_ids: [[1, 2, 3, 4], [5, 6, 7, 8]] });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(r.per_sample_param_norms)).toEqual([
      'base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight', 'base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight',
      'base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight', 'base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight',
    ]);
    m.dispose();
    const g = new Gpt2Model(gpt2Config, { seed: 7 });
    expect(names(selectTrainable(g, { last: 1 }))).toEqual(names(g.params).filter((n) => n.startsWith('transformer.h.1.') || n.startsWith('transformer.ln_f.')));
    g.dispose();
  });
});
