import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { VitModel } from '../vit/vit-model.js';
import { loadPretrainedFromBytes } from './load-pretrained-from-bytes.js';
import type { PretrainedModel } from './pretrained-model.js';
import { savePretrained } from './save-pretrained.js';
import { savePretrainedToBytes } from './save-pretrained-to-bytes.js';

const gpt2Config = { vocab_size: 17, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 };
const vitConfig = { image_size: 8, patch_size: 4, num_channels: 3, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, num_labels: 5 };

async function expectSameParams(a: PretrainedModel, b: PretrainedModel): Promise<void> {
  expect(b.params.map((p) => p.name)).toEqual(a.params.map((p) => p.name));
  for (let i = 0; i < a.params.length; i++) {
    // exact: float32 in, float32 out
    expect(await b.params[i]!.variable.data()).toEqual(await a.params[i]!.variable.data());
  }
}

describe('savePretrainedToBytes / loadPretrainedFromBytes', () => {
  it('writes the same bytes as savePretrained writes to a folder', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 1 });
    const dir = await mkdtemp(join(tmpdir(), 'clipwise-bytes-'));
    try {
      await savePretrained(m, dir);
      const { config, weights } = await savePretrainedToBytes(m);
      expect(config).toBe(await readFile(join(dir, 'config.json'), 'utf8'));
      expect(Buffer.from(weights).equals(await readFile(join(dir, 'model.safetensors')))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
      m.dispose();
    }
  });

  it('loads from an ArrayBuffer, a typed array, a Blob and a fetch Response alike', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 2 });
    const { config, weights } = await savePretrainedToBytes(m);
    const before = tf.memory().numTensors;
    const inputs = [
      { config, weights: weights.slice().buffer },
      { config: new TextEncoder().encode(config), weights },
      { config: new Blob([config]), weights: new Blob([weights]) },
      { config: JSON.parse(config) as Record<string, unknown>, weights: new Response(weights) },
    ];
    for (const input of inputs) {
      const loaded = await loadPretrainedFromBytes(input, { seed: 9 });
      expect(loaded).toBeInstanceOf(Gpt2Model);
      await expectSameParams(m, loaded);
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('gives a ViT a fresh head with numLabels, as loadPretrained does', async () => {
    const m = new VitModel(vitConfig, { seed: 3 });
    const saved = await savePretrainedToBytes(m);
    const loaded = await loadPretrainedFromBytes(saved, { numLabels: 3 });
    expect(loaded).toBeInstanceOf(VitModel);
    expect((loaded as VitModel).config.num_labels).toBe(3);
    loaded.dispose();
    m.dispose();
  });

  it('refuses a failed fetch and a non-byte input, naming the source', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 4 });
    const { config } = await savePretrainedToBytes(m);
    m.dispose();
    const notFound = new Response('nope', { status: 404, statusText: 'Not Found' });
    await expect(loadPretrainedFromBytes({ config, weights: notFound, source: 'https://x/gpt2' })).rejects.toThrow(
      /https:\/\/x\/gpt2\/model\.safetensors: the fetch response is 404 Not Found/,
    );
    await expect(loadPretrainedFromBytes({ config, weights: 42 as unknown as ArrayBuffer })).rejects.toThrow(ClipwiseModelError);
    await expect(loadPretrainedFromBytes({ config: '{not json', weights: new Uint8Array(8) })).rejects.toThrow(/config\.json is not valid JSON/);
  });
});
