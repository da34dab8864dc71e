import * as tf from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { CheckpointMismatchError } from '../safetensors/check-checkpoint.js';
import type { SafetensorsTensorInput } from '../safetensors/tensor.js';
import { writeSafetensors } from '../safetensors/write-safetensors.js';
import { VitModel } from '../vit/vit-model.js';
import { loadPretrained } from './load-pretrained.js';
import type { PretrainedModel } from './pretrained-model.js';
import { savePretrained } from './save-pretrained.js';

const gpt2Config = { vocab_size: 17, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 };
const vitConfig = { image_size: 8, patch_size: 4, num_channels: 3, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, num_labels: 5 };

let root: string;
let n = 0;
const fresh = () => join(root, `m${n++}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'clipwise-pretrained-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function valuesOf(model: PretrainedModel): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(model.params.map(async (p) => [p.name, (await p.variable.data()) as Float32Array] as const)));
}

/** The model's tensors as a safetensors input record, optionally renamed/edited. */
async function tensorsOf(model: PretrainedModel): Promise<Record<string, SafetensorsTensorInput>> {
  const out: Record<string, SafetensorsTensorInput> = {};
  for (const [name, data] of await valuesOf(model)) out[name] = { dtype: 'F32', shape: model.params.find((p) => p.name === name)!.shape, data };
  return out;
}

async function writeFolder(dir: string, config: object, tensors: Record<string, SafetensorsTensorInput>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  await writeSafetensors(join(dir, 'model.safetensors'), tensors);
}

describe('savePretrained / loadPretrained', () => {
  it('round-trips GPT-2 exactly: config.json, one tied embedding, same logits', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 1 });
    const dir = fresh();
    await savePretrained(m, dir);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 8, tie_word_embeddings: true, eos_token_id: 16 });
    const progress: Array<[number, number]> = [];
    const loaded = await loadPretrained(dir, { seed: 99, onProgress: (done, total) => progress.push([done, total]) });
    expect(loaded).toBeInstanceOf(Gpt2Model);
    // one report before the first tensor and one after each, ending at every parameter element
    const total = m.params.reduce((n, p) => n + p.size, 0);
    expect(progress).toHaveLength(m.params.length + 1);
    expect(progress[0]).toEqual([0, total]);
    expect(progress.at(-1)).toEqual([total, total]);
    expect(await valuesOf(loaded)).toEqual(await valuesOf(m));
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const [a, b] = [m.logits(ids), (loaded as Gpt2Model).logits(ids)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([ids, a, b]);
    m.dispose();
    loaded.dispose();
  });

  it('round-trips ViT exactly, writing id2label for transformers', async () => {
    const m = new VitModel(vitConfig, { seed: 2 });
    const dir = fresh();
    await savePretrained(m, dir);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'vit', architectures: ['ViTForImageClassification'], hidden_act: 'gelu', layer_norm_eps: 1e-12 });
    expect(config.num_labels).toBeUndefined();
    expect(Object.keys(config.id2label)).toHaveLength(5);
    const loaded = (await loadPretrained(dir)) as VitModel;
    expect(loaded).toBeInstanceOf(VitModel);
    expect(loaded.config.num_labels).toBe(5);
    expect(await valuesOf(loaded)).toEqual(await valuesOf(m));
    m.dispose();
    loaded.dispose();
  });

  it('loads hub-style GPT-2 files: no transformer. prefix, attention buffers, lm_head equal to wte, BF16', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 3 });
    const tensors: Record<string, SafetensorsTensorInput> = {};
    for (const [name, t] of Object.entries(await tensorsOf(m))) tensors[name.replace(/^transformer\./, '')] = { ...t, dtype: 'BF16' };
    tensors['lm_head.weight'] = tensors['wte.weight']!;
    tensors['h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 8, 8], data: new Float32Array(64).fill(1) };
    tensors['h.1.attn.masked_bias'] = { dtype: 'F32', shape: [], data: new Float32Array([-1e4]) };
    const dir = fresh();
    await writeFolder(dir, { architectures: ['GPT2LMHeadModel'], ...gpt2Config, activation_function: 'gelu_new' }, tensors);
    const loaded = await loadPretrained(dir);
    const [want, got] = [await valuesOf(m), await valuesOf(loaded)];
    for (const [name, w] of want) {
      const g = got.get(name)!;
      // BF16 keeps 8 significant bits: relative error at most 2^-8
      w.forEach((x, i) => expect(Math.abs(g[i]! - x), name).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8 + 1e-30));
    }
    m.dispose();
    loaded.dispose();
  });

  it('refuses a missing, unexpected or mis-shaped tensor, naming each', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 4 });
    const good = await tensorsOf(m);
    const config = { model_type: 'gpt2', ...gpt2Config };
    const before = tf.memory().numTensors;

    const { ['transformer.h.1.mlp.c_fc.bias']: _dropped, ...missing } = good;
    const dir1 = fresh();
    await writeFolder(dir1, config, missing);
    await expect(loadPretrained(dir1)).rejects.toThrow(CheckpointMismatchError);
    await expect(loadPretrained(dir1)).rejects.toThrow(/missing 1: 'transformer\.h\.1\.mlp\.c_fc\.bias' \[32\]/);

    const dir2 = fresh();
    await writeFolder(dir2, config, { ...good, 'transformer.h.0.ln_1.weight': { dtype: 'F32', shape: [9], data: new Float32Array(9) } });
    await expect(loadPretrained(dir2)).rejects.toThrow(/mis-shaped 1: 'transformer\.h\.0\.ln_1\.weight' \(checkpoint \[9\], model expects \[8\]\)/);

    const dir3 = fresh();
    await writeFolder(dir3, config, { ...good, 'transformer.extra.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) } });
    await expect(loadPretrained(dir3)).rejects.toThrow(/unexpected 1: 'transformer\.extra\.weight' \[2\]/);

    const dir4 = fresh();
    const untied = new Float32Array(17 * 8).fill(0.5);
    await writeFolder(dir4, config, { ...good, 'lm_head.weight': { dtype: 'F32', shape: [17, 8], data: untied } });
    await expect(loadPretrained(dir4)).rejects.toThrow(/'lm_head\.weight' \[17,8\] differs from the token embedding/);

    const dir5 = fresh();
    await writeFolder(dir5, config, { ...good, 'transformer.wpe.weight': { dtype: 'I32', shape: [8, 8], data: new Int32Array(64) } });
    await expect(loadPretrained(dir5)).rejects.toThrow(/'transformer\.wpe\.weight' .* has integer dtype I32/);

    expect(tf.memory().numTensors).toBe(before); // a refused load frees the model it built
    m.dispose();
  });

  it('refuses bad or missing config fields and missing files', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 5 });
    const tensors = await tensorsOf(m);
    const cases: Array<[object, RegExp]> = [
      [{ model_type: 'gpt2', ...gpt2Config, n_head: 0 }, /config field 'n_head' must be a positive integer, got 0/],
      [{ model_type: 'gpt2', ...gpt2Config, n_embd: 9 }, /n_embd \(9\) must be divisible by n_head \(2\)/],
      [{ model_type: 'gpt2', ...gpt2Config, activation_function: 'relu' }, /'activation_function' = "relu" is not supported/],
      [{ model_type: 'gpt2', ...gpt2Config, tie_word_embeddings: false }, /'tie_word_embeddings' = false is not supported/],
      [{ model_type: 'bert', ...gpt2Config }, /model_type "bert" is not supported; expected 'gpt2' or 'vit'/],
      [{ ...gpt2Config }, /cannot tell the model type/],
      [{ model_type: 'vit', ...vitConfig, image_size: 10 }, /image_size \(10\) must be divisible by patch_size \(4\)/],
    ];
    for (const [config, message] of cases) {
      const dir = fresh();
      await writeFolder(dir, config, tensors);
      await expect(loadPretrained(dir)).rejects.toThrow(ClipwiseModelError);
      await expect(loadPretrained(dir)).rejects.toThrow(message);
    }
    const dir = fresh();
    await writeFolder(dir, { model_type: 'gpt2', ...gpt2Config }, tensors);
    await writeFile(join(dir, 'config.json'), '{ "model_type": ');
    await expect(loadPretrained(dir)).rejects.toThrow(/config\.json is not valid JSON/);
    await expect(loadPretrained(join(root, 'nowhere'))).rejects.toThrow(/cannot read .*nowhere.config\.json/);
    const noWeights = fresh();
    await writeFolder(noWeights, { model_type: 'gpt2', ...gpt2Config }, tensors);
    await rm(join(noWeights, 'model.safetensors'));
    await writeFile(join(noWeights, 'model.safetensors.index.json'), '{}');
    await expect(loadPretrained(noWeights)).rejects.toThrow(/sharded checkpoints are not supported/);
    m.dispose();
  });

  it('ViT: numLabels starts a fresh head, loading everything else (also from a headless ViTModel file)', async () => {
    const m = new VitModel(vitConfig, { seed: 6 });
    const tensors: Record<string, SafetensorsTensorInput> = {};
    for (const [name, t] of Object.entries(await tensorsOf(m))) if (!name.startsWith('classifier.')) tensors[name.replace(/^vit\./, '')] = t;
    tensors['pooler.dense.weight'] = { dtype: 'F32', shape: [8, 8], data: new Float32Array(64) };
    tensors['pooler.dense.bias'] = { dtype: 'F32', shape: [8], data: new Float32Array(8) };
    const dir = fresh();
    await writeFolder(dir, { architectures: ['ViTModel'], ...vitConfig, id2label: { 0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'e' } }, tensors);
    await expect(loadPretrained(dir)).rejects.toThrow(/missing 2: 'classifier\.bias' \[5\], 'classifier\.weight' \[5, 8\]/);
    const loaded = (await loadPretrained(dir, { numLabels: 3, seed: 1 })) as VitModel;
    expect(loaded.config.num_labels).toBe(3);
    expect(loaded.classifier.weight.shape).toEqual([3, 8]);
    const [want, got] = [await valuesOf(m), await valuesOf(loaded)];
    for (const [name, w] of want) if (!name.startsWith('classifier.')) expect(got.get(name), name).toEqual(w);
    await expect(loadPretrained(dir, { numLabels: 0 })).rejects.toThrow(/numLabels must be a positive integer/);
    m.dispose();
    loaded.dispose();
  });
});
