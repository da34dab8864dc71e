import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gpt2Model, VitModel, loadAdapter, loadPretrained, readSafetensorsFromBuffer, savePretrained } from '@clipwise/models/node';
import { run, tinyCifar } from './train-helpers';

// Parameter-efficient private fine-tuning from the CLI: --trainable bias (DP-BiTFiT) and LoRA, on a
// tiny GPT-2 saved as a Hugging Face folder (byte tokenizer), so the frozen weights can be compared
// with the starting ones bit for bit.
async function setup(): Promise<{ dir: string; base: string; data: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-peft-'));
  const base = path.join(dir, 'base');
  const model = new Gpt2Model({ vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2 }, { seed: 4 });
  await savePretrained(model, base);
  model.dispose();
  const data = path.join(dir, 'train.txt');
  writeFileSync(data, 'the cat sat on the mat. the dog sat on the log. a bird sang in the tree. '.repeat(6));
  return { dir, base, data };
}

const common = (s: { base: string; data: string }, out: string) => [
  'train', '--model', s.base, '--data', s.data, '--tokenizer', 'byte', '--seq-len', '16', '--batch-size', '4', '--steps', '2',
  '--backend', 'cpu', '--noise-multiplier', '1', '--lr', '0.01', '--out', out, '--eval-every', '1000',
];

function tensors(file: string): Map<string, Float32Array> {
  const { tensors: t } = readSafetensorsFromBuffer(readFileSync(file));
  return new Map([...t].map(([n, x]) => [n, x.data as Float32Array]));
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('clipwise train: trainable subsets and LoRA', () => {
  it('--trainable bias: only the biases move (the rest bit for bit), and privacy.json says what trained', async () => {
    const s = await setup();
    const out = path.join(s.dir, 'bitfit');
    const r = await run([...common(s, out), '--trainable', 'bias', '--grouping', 'all-layer']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/trains: bias, 368 parameters in 13 tensors/);
    const before = tensors(path.join(s.base, 'model.safetensors'));
    const after = tensors(path.join(out, 'checkpoint', 'model', 'model.safetensors'));
    for (const [name, v] of before) expect(same(after.get(name)!, v), name).toBe(!name.endsWith('.bias'));
    const privacy = JSON.parse(readFileSync(path.join(out, 'report', 'privacy.json'), 'utf8'));
    expect(privacy.trained.mode).toBe('bias');
    expect(privacy.trained.tensors.every((n: string) => n.endsWith('.bias'))).toBe(true);
    expect(privacy.grouping.groups.flatMap((g: { params: string[] }) => g.params).sort()).toEqual([...privacy.trained.tensors].sort());
    expect(privacy.statement).toMatch(/Trained: bias, 368 of [\d,]+ parameters \(13 tensors\)/);
    expect(readFileSync(path.join(out, 'report', 'report.html'), 'utf8')).toMatch(/id="trained">Trained: <b>bias<\/b>/);
  });

  it('LoRA: base frozen, peft adapter and merged model written, exact resume, norms --adapter', async () => {
    const s = await setup();
    const lora = ['--lora-rank', '2', '--lora-alpha', '4', '--lora-targets', 'c_attn,c_proj'];
    const out = path.join(s.dir, 'lora');
    const r = await run([...common(s, out), ...lora, '--merge-adapter']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/trains: lora r=2 α=4 on c_attn,c_proj, 704 parameters in 12 tensors/);
    const adapterDir = path.join(out, 'adapter');
    expect(JSON.parse(readFileSync(path.join(adapterDir, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 4, fan_in_fan_out: true, target_modules: ['c_attn', 'c_proj'] });
    const adapter = tensors(path.join(adapterDir, 'adapter_model.safetensors'));
    expect([...adapter.keys()]).toContain('base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight');
    const before = tensors(path.join(s.base, 'model.safetensors'));
    const after = tensors(path.join(out, 'checkpoint', 'model', 'model.safetensors'));
    for (const [name, v] of before) expect(same(after.get(name)!, v), name).toBe(true);

    // the merged folder computes what base + adapter computes
    const ids = tf.tensor2d([[104, 101, 108, 108, 111, 32]], [1, 6], 'int32');
    const adapted = (await loadPretrained(s.base)) as Gpt2Model;
    await loadAdapter(adapted, adapterDir);
    const merged = (await loadPretrained(path.join(out, 'merged'))) as Gpt2Model;
    const [a, m] = [await adapted.logits(ids).data(), await merged.logits(ids).data()];
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - m[i]!)))).toBeLessThan(1e-5);
    tf.dispose(ids);
    adapted.dispose();
    merged.dispose();

    // halted after 1 step and resumed: the same adapter as the uninterrupted run
    const cut = path.join(s.dir, 'cut');
    expect((await run([...common(s, cut), ...lora, '--halt-after', '1'])).code).toBe(0);
    const resumed = await run(['train', '--resume', '--out', cut, '--backend', 'cpu']);
    expect(resumed.err).toBe('');
    for (const [name, v] of tensors(path.join(cut, 'adapter', 'adapter_model.safetensors'))) expect(same(v, adapter.get(name)!), name).toBe(true);

    const input = path.join(s.dir, 'input.json');
    writeFileSync(input, JSON.stringify({ input_ids: [[104, 101, 108, 108, 111, 32], [116, 104, 101, 32, 99, 97]] }));
    const norms = await run(['norms', '--model', s.base, '--adapter', adapterDir, '--input', input, '--json']);
    expect(norms.err).toBe('');
    expect(Object.keys(JSON.parse(norms.out).per_sample_param_norms).sort()).toEqual([...adapter.keys()].sort());
  });

  it('takes the trainable subset from a YAML config (last:1: block 1 and ln_f)', async () => {
    const s = await setup();
    const config = path.join(s.dir, 'run.yaml');
    writeFileSync(config, 'trainable: last:1\ngrouping: layer-wise\n');
    const out = path.join(s.dir, 'last');
    const r = await run([...common(s, out), '--config', config, '--steps', '1']);
    expect(r.err).toBe('');
    const trained = JSON.parse(readFileSync(path.join(out, 'report', 'privacy.json'), 'utf8')).trained;
    expect(trained.mode).toBe('last:1');
    expect(trained.tensors.every((n: string) => n.startsWith('transformer.h.1.') || n.startsWith('transformer.ln_f.'))).toBe(true);
    expect(trained.tensors).toHaveLength(14);
  });

  it('ViT: BiTFiT with the new head (bias,classifier), and LoRA on query,value (nn.Linear layout)', async () => {
    const t = tinyCifar(8, 4);
    const vit = (out: string, extra: string[]) => run([
      'train', '--config', t.config, '--model', 'vit-tiny', '--data', t.train, '--eval-data', t.test, '--steps', '1', '--batch-size', '4',
      '--noise-multiplier', '1', '--backend', 'cpu', '--out', path.join(t.dir, out), ...extra,
    ]);
    const bitfit = await vit('bitfit', ['--trainable', 'bias,classifier']);
    expect(bitfit.err).toBe('');
    const trained = JSON.parse(readFileSync(path.join(t.dir, 'bitfit', 'report', 'privacy.json'), 'utf8')).trained.tensors as string[];
    expect(trained.filter((n) => !n.endsWith('.bias'))).toEqual(['classifier.weight']);
    const lora = await vit('lora', ['--lora-rank', '2']);
    expect(lora.err).toBe('');
    expect(lora.out).toMatch(/trains: lora r=2 α=2 on query,value/);
    expect(JSON.parse(readFileSync(path.join(t.dir, 'lora', 'adapter', 'adapter_config.json'), 'utf8'))).toMatchObject({ fan_in_fan_out: false, target_modules: ['query', 'value'] });
    // a checkpoint whose head does not fit the data's classes: LoRA would freeze a random new head
    const folder = path.join(t.dir, 'vit5');
    const v = new VitModel({ image_size: 32, patch_size: 16, num_channels: 3, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, num_labels: 5 });
    await savePretrained(v, folder);
    v.dispose();
    const fresh = await run(['train', '--model', folder, '--data', t.train, '--steps', '1', '--batch-size', '4', '--backend', 'cpu', '--lora-rank', '2', '--out', path.join(t.dir, 'x')]);
    expect(fresh.err).toMatch(/head has 5 classes and the data 10.*--trainable bias,classifier/);
  });

  it('refuses bad settings, naming them', async () => {
    const s = await setup();
    const bad = async (extra: string[]) => (await run([...common(s, path.join(s.dir, 'x')), ...extra])).err;
    expect(await bad(['--trainable', 'transformer.h.7.'])).toMatch(/--trainable 'transformer.h.7.': no parameter name starts with 'transformer.h.7.'/);
    expect(await bad(['--trainable', 'last:5'])).toMatch(/only 2 blocks/);
    expect(await bad(['--lora-rank', '0'])).toMatch(/--lora-rank must be a positive integer/);
    expect(await bad(['--lora-rank', '2', '--lora-targets', 'c_attn,query'])).toMatch(/'query' matches no linear layer/);
    expect(await bad(['--lora-alpha', '8'])).toMatch(/--lora-alpha applies to LoRA only/);
    expect(await bad(['--lora-rank', '2', '--trainable', 'bias'])).toMatch(/cannot be combined with --lora-rank/);
    expect(existsSync(path.join(s.dir, 'x', 'checkpoint'))).toBe(false);
  });
});
