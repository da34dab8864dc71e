import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { perSampleNorms } from '../diagnostics/per-sample-norms.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { readSafetensorsFromBuffer } from '../safetensors/read-safetensors-buffer.js';
import { serializeSafetensors } from '../safetensors/serialize-safetensors.js';
import { VitModel } from '../vit/vit-model.js';
import { addLora, loraAdapters } from './add-lora.js';
import { mergeLora } from './merge-lora.js';
import { insideModulesToSave, loraModulesToSave, matchesModuleToSave } from './modules-to-save.js';
import { adapterNumLabels, loadAdapterFromBytes, peftLoraConfig, saveAdapterToBytes } from './peft-adapter.js';

// peft's modules_to_save beside LoRA: which modules match, what trains, the saved names
// (base_model.model.classifier.weight), a bit-exact save/load round trip and merging.
const gpt2Config = { vocab_size: 17, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 };
const vitConfig = { image_size: 8, patch_size: 4, num_channels: 3, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, num_labels: 3 };
const pixels = () => tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 3) as tf.Tensor4D;

async function logits(m: VitModel): Promise<Float32Array> {
  const x = pixels();
  const out = m.logits(x);
  const v = (await out.data()) as Float32Array;
  tf.dispose([x, out]);
  return v;
}

/** A ViT with LoRA on query/value and a trained-looking head: B and the classifier moved off their initial values. */
function trainedVit(numLabels = 3): VitModel {
  const m = new VitModel({ ...vitConfig, num_labels: numLabels }, { seed: 2 });
  addLora(m, { rank: 2, alpha: 4, targets: ['query', 'value'], modulesToSave: ['classifier'], seed: 1 });
  loraAdapters(m).forEach((a, k) => tf.tidy(() => a.b.weight.variable.assign(tf.randomNormal(a.b.weight.shape as number[], 0, 0.3, 'float32', 10 + k))));
  for (const p of loraModulesToSave(m)!.params) tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.randomNormal(p.shape as number[], 0, 0.5, 'float32', 20))));
  return m;
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("LoRA with peft's modules_to_save", () => {
  it("matches as peft's _set_trainable (a plain name suffix) and keeps adapters out of saved modules", () => {
    expect(matchesModuleToSave('classifier', 'classifier')).toBe(true);
    expect(matchesModuleToSave('vit.encoder.layer.0.output.dense', 'output.dense')).toBe(true);
    expect(matchesModuleToSave('vit.encoder.layer.0.attention.attention.query', 'classifier')).toBe(false);
    expect(insideModulesToSave('vit.encoder.layer.0.attention.attention.query', ['attention'])).toBe(true);
    expect(insideModulesToSave('vit.encoder.layer.0.attention.attention.query', ['attn'])).toBe(false);

    const v = new VitModel(vitConfig, { seed: 1 });
    const adapters = addLora(v, { rank: 2, targets: ['query', 'dense'], modulesToSave: ['output.dense'] });
    // output.dense (both of them: attention.output.dense and output.dense) train in full, without an adapter
    expect(adapters.map((a) => a.base.name)).toEqual(['vit.encoder.layer.0.attention.attention.query', 'vit.encoder.layer.0.intermediate.dense']);
    expect(loraModulesToSave(v)!.modules).toEqual(['vit.encoder.layer.0.attention.output.dense', 'vit.encoder.layer.0.output.dense']);
    expect(peftLoraConfig(v)).toMatchObject({ target_modules: ['dense', 'query'], modules_to_save: ['output.dense'] });
    v.dispose();
  });

  it('trains the adapters and every parameter of the saved modules; the rest of the base is frozen', () => {
    const m = trainedVit();
    const names = m.trainableParams.map((p) => p.name);
    expect(names.filter((n) => !n.includes('.lora_'))).toEqual(['classifier.weight', 'classifier.bias']);
    expect(names).toHaveLength(2 * 2 + 2);
    expect(m.params.filter((p) => p.variable.trainable).map((p) => p.name)).toEqual(['classifier.weight', 'classifier.bias']);
    m.dispose();
  });

  it("saves peft's names and config; a save→load round trip is bit-exact (tensors, logits and the re-saved file)", async () => {
    const m = trainedVit();
    const saved = await saveAdapterToBytes(m);
    expect(JSON.parse(saved.config)).toMatchObject({ modules_to_save: ['classifier'], target_modules: ['query', 'value'], fan_in_fan_out: false });
    const file = readSafetensorsFromBuffer(saved.weights).tensors;
    expect(file.get('base_model.model.classifier.weight')!.shape).toEqual([3, 8]);
    expect(file.get('base_model.model.classifier.bias')!.shape).toEqual([3]);
    expect([...file.keys()].filter((n) => !n.includes('.lora_'))).toEqual(['base_model.model.classifier.bias', 'base_model.model.classifier.weight']);

    const fresh = new VitModel(vitConfig, { seed: 2 });
    const before = tf.memory().numTensors;
    await loadAdapterFromBytes(fresh, saved);
    expect(tf.memory().numTensors).toBe(before + 4); // A and B of two adapters; the head is assigned in place
    expect(bits(await logits(fresh)).equals(bits(await logits(m)))).toBe(true);
    expect(bits((await fresh.classifier.weight.variable.data()) as Float32Array).equals(bits(file.get('base_model.model.classifier.weight')!.data as Float32Array))).toBe(true);
    expect(fresh.trainableParams.map((p) => p.name)).toEqual(m.trainableParams.map((p) => p.name));
    const again = await saveAdapterToBytes(fresh);
    expect(again.config).toBe(saved.config);
    expect(Buffer.from(again.weights).equals(Buffer.from(saved.weights))).toBe(true);
    m.dispose();
    fresh.dispose();
  });

  it('merging keeps the trained head in the model (the merged logits are the adapted ones)', async () => {
    const m = trainedVit();
    const adapted = await logits(m);
    expect(mergeLora(m)).toBe(2);
    expect(loraModulesToSave(m)).toBeNull();
    const merged = await logits(m);
    expect(Math.max(...Array.from(merged, (x, i) => Math.abs(x - adapted[i]!)))).toBeLessThan(1e-5);
    m.dispose();
  });

  it('perSampleNorms names the saved modules as peft does', async () => {
    const m = trainedVit();
    const r = await perSampleNorms(m, { pixel_values: (await pixels().array()) as number[][][][], labels: [0, 2] });
    expect(Object.keys(r.per_sample_param_norms).filter((n) => !n.includes('.lora_'))).toEqual(['base_model.model.classifier.weight', 'base_model.model.classifier.bias']);
    expect(r.per_sample_param_norms['base_model.model.classifier.bias']!.every((x) => x > 0)).toBe(true);
    m.dispose();
  });

  it('a head saved for another class count is refused, naming the fix; the model is left as it was', async () => {
    const five = trainedVit(5);
    const saved = await saveAdapterToBytes(five);
    expect(adapterNumLabels(saved)).toBe(5);
    const three = new VitModel(vitConfig, { seed: 2 });
    const head = bits(((await three.classifier.weight.variable.data()) as Float32Array).slice());
    await expect(loadAdapterFromBytes(three, saved)).rejects.toThrow(
      /base_model\.model\.classifier\.weight has shape \[5,8\], expected \[3,8\].*head has 5 classes; load the base with loadPretrained\(dir, \{ numLabels: 5 \}\)/,
    );
    expect(loraAdapters(three)).toHaveLength(0);
    expect(loraModulesToSave(three)).toBeNull();
    expect(bits((await three.classifier.weight.variable.data()) as Float32Array).equals(head)).toBe(true);
    const right = new VitModel({ ...vitConfig, num_labels: 5 }, { seed: 2 }); // the same backbone, another head
    await loadAdapterFromBytes(right, saved);
    expect(bits(await logits(right)).equals(bits(await logits(five)))).toBe(true);
    expect(adapterNumLabels(await saveAdapterToBytes(trainedVitWithout()))).toBeUndefined();
    [five, three, right].forEach((x) => x.dispose());
  });

  it('refuses a name that matches no module, nested modules, a tied weight, and saved tensors the config does not declare', async () => {
    const v = new VitModel(vitConfig, { seed: 1 });
    expect(() => addLora(v, { rank: 2, modulesToSave: ['head'] })).toThrow(/modules_to_save 'head' matches no module of this model.*its modules end in .*classifier/);
    expect(() => addLora(v, { rank: 2, modulesToSave: ['attention'] })).toThrow(/selects both vit\.encoder\.layer\.0\.attention and vit\.encoder\.layer\.0\.attention\.attention, which lies inside it/);
    expect(() => addLora(v, { rank: 2, targets: ['query'], modulesToSave: ['query'] })).toThrow(/every layer target_modules \["query"\] matches lies inside modules_to_save \["query"\]/);
    expect(() => addLora(v, { rank: 2, modulesToSave: [] })).toThrow(/non-empty list of module names/);
    expect(loraAdapters(v)).toHaveLength(0);
    const g = new Gpt2Model(gpt2Config);
    expect(() => addLora(g, { rank: 2, modulesToSave: ['wte'] })).toThrow(/transformer\.wte\.weight is tied to another layer/);
    expect(() => addLora(g, { rank: 2, modulesToSave: ['lm_head'] })).toThrow(/'lm_head' matches no module.*tied to transformer\.wte/);

    // a file with the head but a config without modules_to_save (or the other way round)
    const m = trainedVit();
    const saved = await saveAdapterToBytes(m);
    const config = JSON.stringify({ ...JSON.parse(saved.config), modules_to_save: null });
    await expect(loadAdapterFromBytes(new VitModel(vitConfig), { config, weights: saved.weights })).rejects.toThrow(/base_model\.model\.classifier\.bias.* belong to no targeted module.*needs modules_to_save/);
    const lora = Object.fromEntries([...readSafetensorsFromBuffer(saved.weights).tensors].filter(([n]) => n.includes('.lora_')).map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data as Float32Array }]));
    await expect(loadAdapterFromBytes(new VitModel(vitConfig), { config: saved.config, weights: serializeSafetensors(lora) })).rejects.toThrow(/tensor base_model\.model\.classifier\.weight \[3,8\] is missing/);
    await expect(loadAdapterFromBytes(new VitModel(vitConfig), { config: JSON.stringify({ ...JSON.parse(saved.config), modules_to_save: 'classifier' }), weights: saved.weights })).rejects.toThrow(/modules_to_save must be null or a non-empty list/);
    [v, g, m].forEach((x) => x.dispose());
  });
});

function trainedVitWithout(): VitModel {
  const m = new VitModel(vitConfig, { seed: 2 });
  addLora(m, { rank: 2 });
  return m;
}
