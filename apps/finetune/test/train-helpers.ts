import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli';

export function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return main(args, (s) => (out += s + '\n'), (s) => (err += s + '\n')).then((code) => ({ code, out, err }));
}

const NAMES = ['Alimentum', 'Aromi', 'Bibimbap', 'Cotto', 'Giraffe', 'Zizzi'];
const FOODS = ['Thai', 'French', 'Italian', 'Chinese'];

/** A temp folder with tiny E2E train/eval CSVs and a --config JSON for a 16-wide, 1-layer GPT-2. */
export function tinyE2E(extra: Record<string, unknown> = {}): { dir: string; train: string; evalFile: string; config: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-train-'));
  const rows = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => {
      const name = NAMES[(i + offset) % NAMES.length]!;
      const food = FOODS[(i * 3 + offset) % FOODS.length]!;
      return `"name[${name}], food[${food}]","${name} serves ${food} food."`;
    });
  const train = path.join(dir, 'train.csv');
  const evalFile = path.join(dir, 'eval.csv');
  writeFileSync(train, ['mr,ref', ...rows(12, 0)].join('\n'));
  writeFileSync(evalFile, ['mr,ref', ...rows(4, 1), `"name[Aromi], food[French]","Aromi has French food."`].join('\n'));
  const config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      model: 'gpt2-tiny', 'model-config': { n_embd: 16, n_layer: 1, n_head: 2 }, tokenizer: 'word', 'seq-len': 24,
      data: train, 'eval-data': evalFile, 'batch-size': 4, backend: 'cpu', 'gen-tokens': 8, lr: 0.01, ...extra,
    }),
  );
  return { dir, train, evalFile, config };
}

/**
 * A tiny ViT task: `nTrain` and `nTest` CIFAR-10 binary records (1 label byte + 3072 pixel bytes, a
 * deterministic pattern) and a config file shrinking vit-tiny to one narrow block.
 */
export function tinyCifar(nTrain: number, nTest: number): { dir: string; train: string; test: string; config: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-vit-'));
  const bin = (file: string, n: number) => {
    const buf = Buffer.alloc(n * 3073);
    for (let i = 0; i < n; i++) {
      buf[i * 3073] = i % 10;
      for (let j = 1; j < 3073; j++) buf[i * 3073 + j] = (i * 37 + j * 11) % 256;
    }
    writeFileSync(file, buf);
    return file;
  };
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ 'model-config': { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 } }));
  return { dir, train: bin(path.join(dir, 'train.bin'), nTrain), test: bin(path.join(dir, 'test.bin'), nTest), config };
}
