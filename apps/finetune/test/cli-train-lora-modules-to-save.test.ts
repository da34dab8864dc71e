import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VitModel, loadAdapter, loadPretrained, readSafetensorsFromBuffer, savePretrained } from '@clipwise/models/node';
import { run, tinyCifar } from './train-helpers';

// --lora-modules-to-save: peft's recipe for image classification (LoRA on query, value and the
// classifier trained in full), on a tiny ViT checkpoint folder and tiny CIFAR-10 binaries (10 classes).
const VIT = { image_size: 32, patch_size: 16, num_channels: 3, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 };

async function vitFolder(dir: string, numLabels: number): Promise<string> {
  const folder = path.join(dir, `vit${numLabels}`);
  const v = new VitModel({ ...VIT, num_labels: numLabels }, { seed: 3 });
  await savePretrained(v, folder);
  v.dispose();
  return folder;
}

function tensors(file: string): Map<string, Float32Array> {
  const { tensors: t } = readSafetensorsFromBuffer(readFileSync(file));
  return new Map([...t].map(([n, x]) => [n, x.data as Float32Array]));
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('clipwise train --lora-modules-to-save', () => {
  const t = tinyCifar(8, 4);
  const train = (model: string, out: string, extra: string[]) => run([
    'train', '--model', model, '--data', t.train, '--eval-data', t.test, '--steps', '2', '--batch-size', '4', '--noise-multiplier', '1',
    '--lr', '0.05', '--backend', 'cpu', '--eval-every', '1000', '--out', path.join(t.dir, out), '--lora-rank', '2', ...extra,
  ]);

  it('trains the classifier in full beside the adapters: base frozen bit for bit, head moved, saved under peft names, merged, resumed exactly, norms --adapter', async () => {
    const folder = await vitFolder(t.dir, 10);
    const r = await train(folder, 'head', ['--lora-modules-to-save', 'classifier', '--merge-adapter']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // 2 adapters × (A [2,16] + B [16,2]) + classifier 10×16 + 10
    expect(r.out).toMatch(/trains: lora r=2 α=2 on query,value \+ classifier, 298 parameters in 6 tensors/);
    const out = path.join(t.dir, 'head');
    const privacy = json(path.join(out, 'report', 'privacy.json'));
    expect(privacy.trained.tensors.filter((n: string) => !n.includes('.lora_'))).toEqual(['classifier.weight', 'classifier.bias']);
    expect(privacy.grouping.groups.flatMap((g: { params: string[] }) => g.params).sort()).toEqual([...privacy.trained.tensors].sort());
    expect(privacy.statement).toMatch(/Trained: lora r=2 α=2 on query,value \+ classifier, 298 of [\d,]+ parameters \(6 tensors\)/);

    const adapterDir = path.join(out, 'adapter');
    expect(json(path.join(adapterDir, 'adapter_config.json'))).toMatchObject({ modules_to_save: ['classifier'], target_modules: ['query', 'value'], fan_in_fan_out: false });
    const adapter = tensors(path.join(adapterDir, 'adapter_model.safetensors'));
    expect([...adapter.keys()].filter((n) => !n.includes('.lora_')).sort()).toEqual(['base_model.model.classifier.bias', 'base_model.model.classifier.weight']);
    const before = tensors(path.join(folder, 'model.safetensors'));
    const after = tensors(path.join(out, 'checkpoint', 'model', 'model.safetensors'));
    for (const [name, v] of before) expect(same(after.get(name)!, v), name).toBe(!name.startsWith('classifier.'));
    for (const p of ['weight', 'bias']) expect(same(adapter.get(`base_model.model.classifier.${p}`)!, after.get(`classifier.${p}`)!)).toBe(true);
    const merged = tensors(path.join(out, 'merged', 'model.safetensors'));
    for (const p of ['weight', 'bias']) expect(same(merged.get(`classifier.${p}`)!, after.get(`classifier.${p}`)!)).toBe(true);

    // base + adapter computes what the merged folder computes
    const pixels = tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 1) as tf.Tensor4D;
    const adapted = (await loadPretrained(folder)) as VitModel;
    await loadAdapter(adapted, adapterDir);
    const mergedModel = (await loadPretrained(path.join(out, 'merged'))) as VitModel;
    const [a, m] = [await adapted.logits(pixels).data(), await mergedModel.logits(pixels).data()];
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - m[i]!)))).toBeLessThan(1e-5);
    tf.dispose(pixels);
    adapted.dispose();
    mergedModel.dispose();

    // halted after 1 step and resumed: the same adapter and head as the uninterrupted run
    expect((await train(folder, 'cut', ['--lora-modules-to-save', 'classifier', '--halt-after', '1'])).code).toBe(0);
    const resumed = await run(['train', '--resume', '--out', path.join(t.dir, 'cut'), '--backend', 'cpu']);
    expect(resumed.err).toBe('');
    const again = tensors(path.join(t.dir, 'cut', 'adapter', 'adapter_model.safetensors'));
    expect([...again.keys()].sort()).toEqual([...adapter.keys()].sort());
    for (const [name, v] of again) expect(same(v, adapter.get(name)!), name).toBe(true);

    const input = path.join(t.dir, 'input.json');
    writeFileSync(input, JSON.stringify({ pixel_values: await tf.tidy(() => tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 2)).array(), labels: [3, 7] }));
    const norms = await run(['norms', '--model', folder, '--adapter', adapterDir, '--input', input, '--json']);
    expect(norms.err).toBe('');
    expect(Object.keys(JSON.parse(norms.out).per_sample_param_norms).sort()).toEqual([...adapter.keys()].sort());
  });

  it('a head of another class count is re-initialised and trained (YAML key); without the flag the refusal names it', async () => {
    const folder = await vitFolder(t.dir, 5);
    const refused = await train(folder, 'x', []);
    expect(refused.err).toMatch(/head has 5 classes and the data 10.*Add --lora-modules-to-save classifier/);
    const config = path.join(t.dir, 'head.yaml');
    writeFileSync(config, 'lora-modules-to-save: classifier\n');
    const r = await train(folder, 'new-head', ['--config', config]);
    expect(r.err).toBe('');
    const adapterDir = path.join(t.dir, 'new-head', 'adapter');
    const adapter = tensors(path.join(adapterDir, 'adapter_model.safetensors'));
    expect(adapter.get('base_model.model.classifier.weight')!.length).toBe(10 * 16);
    const before = tensors(path.join(folder, 'model.safetensors'));
    const after = tensors(path.join(t.dir, 'new-head', 'checkpoint', 'model', 'model.safetensors'));
    for (const [name, v] of before) if (!name.startsWith('classifier.')) expect(same(after.get(name)!, v), name).toBe(true);
    // norms --adapter on the 5-class base: the adapter's 10-class head replaces it
    const input = path.join(t.dir, 'input10.json');
    writeFileSync(input, JSON.stringify({ pixel_values: await tf.tidy(() => tf.randomNormal([1, 3, 32, 32], 0, 1, 'float32', 2)).array(), labels: [9] }));
    const norms = await run(['norms', '--model', folder, '--adapter', adapterDir, '--input', input, '--json']);
    expect(norms.err).toBe('');
    expect(Object.keys(JSON.parse(norms.out).per_sample_param_norms)).toContain('base_model.model.classifier.weight');
  });

  it('refuses it without --lora-rank, a name that matches no module, and an empty name', async () => {
    const bad = async (extra: string[]) => (await run([
      'train', '--config', t.config, '--model', 'vit-tiny', '--data', t.train, '--steps', '1', '--batch-size', '4', '--noise-multiplier', '1',
      '--backend', 'cpu', '--out', path.join(t.dir, 'bad'), ...extra,
    ])).err;
    expect(await bad(['--lora-modules-to-save', 'classifier'])).toMatch(/--lora-modules-to-save applies to LoRA only; add --lora-rank R/);
    expect(await bad(['--lora-rank', '2', '--lora-modules-to-save', 'head'])).toMatch(/--lora-modules-to-save: modules_to_save 'head' matches no module of this model.*classifier/);
    expect(await bad(['--lora-rank', '2', '--lora-modules-to-save', 'classifier,'])).toMatch(/--lora-modules-to-save 'classifier,': empty name in the list/);
    expect(await bad(['--lora-rank', '2', '--trainable', 'classifier'])).toMatch(/cannot be combined with --lora-rank.*--lora-modules-to-save NAME/);
  });
});
