import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { readSafetensorsFromBuffer } from '../safetensors/read-safetensors-buffer.js';
import { VitModel } from '../vit/vit-model.js';
import { addLora, loraAdapters, removeLora } from './add-lora.js';
import { mergeLora } from './merge-lora.js';
import { loadAdapterFromBytes, peftLoraConfig, saveAdapterToBytes } from './peft-adapter.js';
import { parseTrainableSpec, selectTrainable } from './trainable-spec.js';

const gpt2Config = { vocab_size: 17, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 };
const vitConfig = { image_size: 8, patch_size: 4, num_channels: 3, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, num_labels: 3 };

async function values(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

function maxAbsDiff(a: number[], b: number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

describe('LoRA adapters in peft format', () => {
  it('use_rslora says what was asked, also at rank 1 (where α/√r = α/r)', () => {
    for (const rsLora of [true, false]) {
      const m = new Gpt2Model(gpt2Config, { seed: 1 });
      addLora(m, { rank: 1, alpha: 4, rsLora });
      expect(peftLoraConfig(m).use_rslora).toBe(rsLora);
      removeLora(m);
      m.dispose();
    }
  });

  it("GPT-2: writes peft's names, shapes and config; loads back into a fresh model with equal logits; merging gives the same logits", async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 1 });
    addLora(m, { rank: 2, alpha: 6, targets: ['c_attn', 'c_fc'], seed: 3 });
    for (const a of loraAdapters(m)) tf.tidy(() => a.b.weight.variable.assign(tf.randomNormal(a.b.weight.shape as number[], 0, 0.3, 'float32', 8)));
    const ids = tf.tensor2d([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], [2, 5], 'int32');
    const base = await values(new Gpt2Model(gpt2Config, { seed: 1 }).logits(ids));
    const adapted = await values(m.logits(ids));
    expect(maxAbsDiff(adapted, base)).toBeGreaterThan(1e-3); // the adapter changes the output

    const saved = await saveAdapterToBytes(m);
    const config = JSON.parse(saved.config);
    expect(config).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 6, target_modules: ['c_attn', 'c_fc'], fan_in_fan_out: true, task_type: 'CAUSAL_LM', use_rslora: false });
    const { tensors } = readSafetensorsFromBuffer(saved.weights);
    expect([...tensors].map(([n, t]) => `${n}:${t.shape.join('x')}`).sort()).toEqual(
      [0, 1].flatMap((h) => [
        `base_model.model.transformer.h.${h}.attn.c_attn.lora_A.weight:2x8`, `base_model.model.transformer.h.${h}.attn.c_attn.lora_B.weight:24x2`,
        `base_model.model.transformer.h.${h}.mlp.c_fc.lora_A.weight:2x8`, `base_model.model.transformer.h.${h}.mlp.c_fc.lora_B.weight:32x2`,
      ]).sort(),
    );

    const fresh = new Gpt2Model(gpt2Config, { seed: 1 });
    await loadAdapterFromBytes(fresh, saved);
    expect(maxAbsDiff(await values(fresh.logits(ids)), adapted)).toBe(0);
    expect(fresh.params.every((p) => !p.variable.trainable)).toBe(true);

    expect(mergeLora(fresh)).toBe(4);
    expect(loraAdapters(fresh)).toHaveLength(0);
    expect(maxAbsDiff(await values(fresh.logits(ids)), adapted)).toBeLessThan(1e-5);
    tf.dispose(ids);
    m.dispose();
    fresh.dispose();
  });

  it('ViT: nn.Linear layout (fan_in_fan_out false); a GPT-2 adapter does not load into a ViT', async () => {
    const v = new VitModel(vitConfig, { seed: 2 });
    addLora(v, { rank: 1, targets: ['query', 'dense'] });
    const saved = await saveAdapterToBytes(v);
    expect(JSON.parse(saved.config)).toMatchObject({ fan_in_fan_out: false, r: 1, lora_alpha: 1, target_modules: ['dense', 'query'], task_type: null });
    const names = [...readSafetensorsFromBuffer(saved.weights).tensors.keys()];
    expect(names).toContain('base_model.model.vit.encoder.layer.0.attention.attention.query.lora_B.weight');
    expect(names).toContain('base_model.model.vit.encoder.layer.0.intermediate.dense.lora_A.weight');
    const g = new Gpt2Model(gpt2Config);
    await expect(loadAdapterFromBytes(g, saved)).rejects.toThrow(/'dense', 'query' match no linear layer/);
    expect(loraAdapters(g)).toHaveLength(0);
    v.dispose();
    g.dispose();
  });

  it('target_modules as one regex: only the matching layers, saved under their full names, loaded back with equal logits', async () => {
    const m = new Gpt2Model(gpt2Config, { seed: 1 });
    const adapters = addLora(m, { rank: 2, targets: 'transformer\\.h\\.0\\.(attn\\.c_attn|mlp\\.c_fc)', seed: 3 });
    expect(adapters.map((a) => a.base.name)).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.0.mlp.c_fc']);
    for (const a of adapters) tf.tidy(() => a.b.weight.variable.assign(tf.randomNormal(a.b.weight.shape as number[], 0, 0.3, 'float32', 8)));
    const saved = await saveAdapterToBytes(m);
    // a subset of the c_attn / c_fc layers: the kinds alone would adapt layer 1 too on loading
    expect(JSON.parse(saved.config).target_modules).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.0.mlp.c_fc']);
    const ids = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    const fresh = new Gpt2Model(gpt2Config, { seed: 1 });
    await loadAdapterFromBytes(fresh, saved);
    expect(maxAbsDiff(await values(fresh.logits(ids)), await values(m.logits(ids)))).toBeLessThan(1e-6);
    // a config that states the regex itself loads the same layers
    const again = new Gpt2Model(gpt2Config, { seed: 1 });
    const viaRegex = await loadAdapterFromBytes(again, { ...saved, config: JSON.stringify({ ...JSON.parse(saved.config), target_modules: 'transformer\\.h\\.0\\.(attn\\.c_attn|mlp\\.c_fc)' }) });
    expect(viaRegex.map((a) => a.base.name)).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.0.mlp.c_fc']);
    expect(maxAbsDiff(await values(again.logits(ids)), await values(m.logits(ids)))).toBeLessThan(1e-6);
    ids.dispose();
    [m, fresh, again].forEach((x) => x.dispose());
  });

  it("all-linear adapts every linear layer but the output layer (peft's shorthand); a regex that matches nothing, or is not one, is an error", () => {
    const v = new VitModel(vitConfig, { seed: 2 });
    const names = addLora(v, { rank: 2, targets: 'all-linear' }).map((a) => a.base.name.split('.').pop());
    expect(names).not.toContain('classifier');
    expect(new Set(names)).toEqual(new Set(['query', 'key', 'value', 'dense']));
    expect(peftLoraConfig(v).target_modules).toEqual(['dense', 'key', 'query', 'value']);
    const g = new Gpt2Model(gpt2Config, { seed: 1 });
    expect(() => addLora(g, { rank: 2, targets: 'h\\.0\\.attn' })).toThrow(/target_modules 'h\\\.0\\\.attn' matches no linear layer/);
    expect(() => addLora(g, { rank: 2, targets: 'c_attn(' })).toThrow(/not a valid regular expression/);
    v.dispose();
    g.dispose();
  });

  it('refuses bad input with errors naming it', async () => {
    const m = new Gpt2Model(gpt2Config);
    expect(() => addLora(m, { rank: 0 })).toThrow(/rank must be a positive integer, got 0/);
    expect(() => addLora(m, { rank: 2, alpha: -1 })).toThrow(/alpha must be a positive number, got -1/);
    expect(() => addLora(m, { rank: 2, targets: ['c_attn', 'q_proj'] })).toThrow(/'q_proj' matches no linear layer.*c_attn, c_proj, c_fc/);
    expect(() => addLora(m, { rank: 2, targets: ['lm_head'] })).toThrow(/'lm_head' matches no linear layer/); // tied to the embedding
    expect(() => selectTrainable(m, parseTrainableSpec('transformer.h.0.,transformer.h.9.'))).toThrow(/no parameter name starts with 'transformer.h.9.'/);
    expect(() => selectTrainable(m, parseTrainableSpec('last:3'))).toThrow(/only 2 blocks/);
    expect(() => parseTrainableSpec('a,,b')).toThrow(/no empty entries/);
    addLora(m, { rank: 1 });
    const saved = await saveAdapterToBytes(m);
    const bad = (patch: object) => ({ config: JSON.stringify({ ...JSON.parse(saved.config), ...patch }), weights: saved.weights });
    const made: Gpt2Model[] = [];
    const fresh = () => made[made.push(new Gpt2Model(gpt2Config)) - 1]!;
    await expect(loadAdapterFromBytes(fresh(), bad({ peft_type: 'IA3' }))).rejects.toThrow(/only LoRA adapters/);
    await expect(loadAdapterFromBytes(fresh(), bad({ use_dora: true }))).rejects.toThrow(/use_dora = true is not supported/);
    await expect(loadAdapterFromBytes(fresh(), bad({ fan_in_fan_out: false }))).rejects.toThrow(/fan_in_fan_out is false/);
    await expect(loadAdapterFromBytes(fresh(), bad({ r: 3 }))).rejects.toThrow(/has shape \[1,8\], expected \[3,8\]/);
    for (const x of [m, ...made]) x.dispose();
    const packed = new VitModel(vitConfig, { qkv: 'packed' });
    expect(() => addLora(packed, { rank: 2, targets: ['dense'] })).toThrow(/q\|k\|v packed.*qkv 'separate' for LoRA/);
    expect(loraAdapters(packed)).toHaveLength(0);
    packed.dispose();
  });
});
