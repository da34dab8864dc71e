import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tinyCifar } from './train-helpers';

/** The tensor names of a safetensors file, from its JSON header (8-byte length, then the header). */
function readSafetensorsHeader(file: string): Record<string, unknown> {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const { __metadata__: _meta, ...tensors } = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
  return tensors;
}

describe('clipwise train: other tasks', () => {
  it('images: a tiny ViT on CIFAR binary files, evaluated with accuracy (task inferred from .bin)', async () => {
    const t = tinyCifar(12, 6);
    const out = path.join(t.dir, 'out');
    const r = await run([
      'train', '--config', t.config, '--model', 'vit-tiny', '--data', t.train, '--eval-data', t.test,
      '--steps', '2', '--batch-size', '4', '--epsilon', '8', '--grouping', 'all-layer', '--optimizer', 'adam', '--backend', 'cpu', '--out', out,
    ]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/task: images \| data: 12 examples \(10 classes\)/);
    expect(r.out).toMatch(/eval @ step 2: loss [\d.]+ accuracy [\d.]+%/);
    const metrics = JSON.parse(readFileSync(path.join(out, 'report/metrics.json'), 'utf8'));
    expect(metrics.evalAccuracy).toBeGreaterThanOrEqual(0);
    expect(metrics.evalAccuracy).toBeLessThanOrEqual(1);
  });

  it("images with --vit-qkv packed: q|k|v trained and clipped as one layer, the checkpoint in Hugging Face's tensors; refused with LoRA and for GPT-2", async () => {
    const t = tinyCifar(12, 6);
    const out = path.join(t.dir, 'packed');
    const args = ['train', '--config', t.config, '--model', 'vit-tiny', '--vit-qkv', 'packed', '--data', t.train, '--eval-data', t.test, '--steps', '2', '--batch-size', '4', '--epsilon', '8', '--backend', 'cpu'];
    const r = await run([...args, '--grouping', 'layer-wise', '--out', out]);
    expect(r.err).toBe('');
    const privacy = JSON.parse(readFileSync(path.join(out, 'report', 'privacy.json'), 'utf8'));
    const trained = privacy.trained.tensors as string[];
    expect(trained).toContain('vit.encoder.layer.0.attention.attention.qkv.weight');
    expect(trained.some((n) => /\.(query|key|value)\./.test(n))).toBe(false);
    // layer-wise: q|k|v is one group (its weight and bias), where the separate layout has three
    const groups = (JSON.parse(readFileSync(path.join(out, 'log.jsonl'), 'utf8').split('\n')[0]!).groups as { group: string }[]).map((g) => g.group);
    expect(groups).toContain('vit.encoder.layer.0.attention.attention.qkv');
    expect(groups.some((g) => /\.(query|key|value)$/.test(g))).toBe(false);
    const names = Object.keys(readSafetensorsHeader(path.join(out, 'checkpoint', 'model', 'model.safetensors')));
    expect(names).toContain('vit.encoder.layer.0.attention.attention.query.weight');
    expect(names.some((n) => n.includes('.qkv.'))).toBe(false);
    // halted after step 1 and resumed: the packed layout again, to the uninterrupted run's weights
    const split = path.join(t.dir, 'split');
    expect((await run([...args, '--grouping', 'layer-wise', '--out', split, '--halt-after', '1'])).err).toBe('');
    expect((await run([...args, '--grouping', 'layer-wise', '--out', split, '--resume'])).err).toBe('');
    const weights = (dir: string) => readFileSync(path.join(dir, 'checkpoint', 'model', 'model.safetensors'));
    expect(weights(split).equals(weights(out))).toBe(true);
    expect((await run([...args, '--lora-rank', '2', '--out', path.join(t.dir, 'x')])).err).toMatch(/--vit-qkv packed cannot be combined with --lora-rank/);
    expect((await run([...args, '--model', 'gpt2-tiny', '--out', path.join(t.dir, 'y')])).err).toMatch(/--vit-qkv packed applies to ViT models/);
  });

  it('text: a plain .txt file cut into --seq-len blocks with the byte tokenizer, evaluated with perplexity', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-text-'));
    const text = 'To be, or not to be, that is the question. '.repeat(12);
    writeFileSync(path.join(dir, 'train.txt'), text);
    writeFileSync(path.join(dir, 'eval.txt'), text.slice(0, 100));
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ 'model-config': { n_embd: 16, n_layer: 1, n_head: 2 } }));
    const out = path.join(dir, 'out');
    const r = await run([
      'train', '--config', config, '--data', path.join(dir, 'train.txt'), '--eval-data', path.join(dir, 'eval.txt'), '--tokenizer', 'byte', '--seq-len', '16',
      '--limit', '20', '--steps', '2', '--batch-size', '5', '--noise-multiplier', '1', '--schedule', 'cosine', '--backend', 'cpu', '--out', out,
    ]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/task: text \| data: 20 examples × 16 tokens \(byte tokenizer, vocabulary 257\)/);
    expect(r.out).toMatch(/eval @ step 2: loss [\d.]+ perplexity [\d.]+/);
    const privacy = JSON.parse(readFileSync(path.join(out, 'report/privacy.json'), 'utf8'));
    expect(privacy).toMatchObject({ noiseMultiplier: 1, targetEpsilon: null, steps: 2, nonPrivateChoices: [] });
  });

  it('gpt2-subset: fitted on public text by a --no-dp run, then read from the model folder for a private E2E run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-subset-'));
    const text = 'The river pub serves food near the city centre. A family pub by the river. '.repeat(20);
    writeFileSync(path.join(dir, 'public.txt'), text);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ 'model-config': { n_embd: 16, n_layer: 1, n_head: 2, vocab_size: 300 } }));
    const pre = path.join(dir, 'pre');
    const r1 = await run([
      'train', '--config', config, '--data', path.join(dir, 'public.txt'), '--tokenizer', 'gpt2-subset', '--seq-len', '40',
      '--steps', '1', '--batch-size', '4', '--no-dp', '--backend', 'cpu', '--out', pre,
    ]);
    expect(r1.err).toBe('');
    expect(r1.out).toMatch(/\(gpt2-subset tokenizer, vocabulary (\d+)\)/);
    const vocab = JSON.parse(readFileSync(path.join(pre, 'checkpoint/tokenizer.json'), 'utf8'));
    expect(vocab.gpt2Ids.length).toBeGreaterThan(0);
    expect(vocab.gpt2Ids.length).toBeLessThanOrEqual(300 - 257);
    // the model folder a pre-training script ships: weights, config and the vocabulary beside them
    const model = path.join(pre, 'checkpoint/model');
    writeFileSync(path.join(model, 'tokenizer.json'), JSON.stringify(vocab));
    const csv = path.join(dir, 'e2e.csv');
    writeFileSync(csv, ['mr,ref', ...Array.from({ length: 8 }, () => '"name[Zizzi], area[riverside]","Zizzi is a pub by the river."')].join('\n'));
    const r2 = await run([
      'train', '--model', model, '--data', csv, '--eval-data', csv, '--eval-limit', '2', '--gen-limit', '1', '--gen-tokens', '2', '--seq-len', '40',
      '--steps', '1', '--batch-size', '4', '--epsilon', '8', '--backend', 'cpu', '--out', path.join(dir, 'dp'),
    ]);
    expect(r2.err).toBe('');
    expect(r2.out).toMatch(new RegExp(`gpt2-subset tokenizer, vocabulary ${vocab.gpt2Ids.length + 257}\\)`));
    // fitting the vocabulary on the private data would release which tokens it holds: refused
    const r3 = await run(['train', '--config', config, '--data', csv, '--tokenizer', 'gpt2-subset', '--seq-len', '40', '--steps', '1', '--batch-size', '4', '--epsilon', '8', '--backend', 'cpu', '--out', path.join(dir, 'bad')]);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/--tokenizer gpt2-subset needs a model folder with its tokenizer\.json/);
  });
});
