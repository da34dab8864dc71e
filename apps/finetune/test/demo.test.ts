import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_MODEL, demoPreset, runDemo } from '../src/commands/demo';
import { run } from './train-helpers';

const MODEL_DIR = path.join(__dirname, '..', 'assets', DEMO_MODEL);

describe('clipwise demo', () => {
  it('ships a small pretrained GPT-2 (savePretrained folder) with its public-text vocabulary and provenance', () => {
    const config = JSON.parse(readFileSync(path.join(MODEL_DIR, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', vocab_size: 4096 });
    expect(config.n_positions).toBeGreaterThanOrEqual(demoPreset()['seq-len']!);
    expect(statSync(path.join(MODEL_DIR, 'model.safetensors')).size).toBeLessThan(10e6);
    const vocab = JSON.parse(readFileSync(path.join(MODEL_DIR, 'tokenizer.json'), 'utf8'));
    expect(vocab.gpt2Ids).toHaveLength(4096 - 257);
    const readme = readFileSync(path.join(MODEL_DIR, 'README.md'), 'utf8');
    expect(readme).toMatch(/scripts\/make-demo-model\.sh/);
    expect(readme).toMatch(/--no-dp/);
  });

  it('fine-tunes the shipped model privately through clipwise train and reports before/after and ε', async () => {
    const lines: string[] = [];
    // Shortened for the cpu backend: 2 steps on 8 pairs, a 96-token window, 1 test row, 1 short generation.
    const r = await runDemo(
      { backend: 'cpu', steps: 2, 'batch-size': 2, limit: 8, 'seq-len': 96, 'eval-limit': 1, 'gen-limit': 1, 'gen-tokens': 4, epsilon: 3 },
      (s) => lines.push(s),
    );
    const text = lines.join('\n');
    expect(text).toMatch(/data: 8 examples × 96 tokens \(gpt2-subset tokenizer, vocabulary 4096\)/);
    expect(text).toMatch(/step 2\/2 {2}B=\d+ .* ε=\d\.\d{3}/);
    // the report states its coverage, and private diagnostics are the demo's default
    expect(text).toMatch(/covered by ε: The model weights after every step/);
    expect(text).toMatch(/not covered: Evaluation metrics/);
    const privacy = JSON.parse(readFileSync(path.join(r.out, 'report/privacy.json'), 'utf8'));
    expect(privacy.diagnostics).toBe('private');
    expect(privacy.releases.map((x: { quantity: string }) => x.quantity)).toEqual(['gradient', 'clip-counts']);
    expect(readFileSync(path.join(r.out, 'report/report.html'), 'utf8')).toMatch(/<h2>Covered by the \(ε, δ\) guarantee<\/h2>[\s\S]*<h2>Not covered by the guarantee<\/h2>/);
    expect(text).toMatch(/before fine-tuning: +test loss \d\.\d{3} nats\/token \(perplexity [\d.]+\) \| ROUGE-L [\d.]+, BLEU [\d.]+ on 1 MRs/);
    expect(text).toMatch(/after +2 private steps: +test loss \d\.\d{3} nats\/token/);
    expect(text).toMatch(/privacy: \(ε = \d\.\d{4}, δ = 0\.00001\)-differential privacy/);
    expect(r.before.step).toBe(0);
    expect(r.after.step).toBe(2);
    // The pretrained weights are what gets fine-tuned: an untrained model is near ln(4096) = 8.32 nats/token.
    expect(r.before.loss).toBeLessThan(7.8);
    expect(Number.isFinite(r.after.loss)).toBe(true);
    // the accountant's ε for the calibrated σ meets the target (calibration tolerance)
    expect(r.train.epsilon!).toBeLessThanOrEqual(3);
    expect(r.train.epsilon!).toBeGreaterThan(2.9);
  }, 120_000);

  it('refuses a bad override like clipwise train does (exit 2, naming the flag)', async () => {
    const r = await run(['demo', '--steps', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--steps must be a positive integer, got '0'/);
  });
});
