import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tinyCifar } from './train-helpers';

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
});
