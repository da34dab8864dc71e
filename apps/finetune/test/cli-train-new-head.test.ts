import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VitModel, readSafetensorsFromBuffer, savePretrained } from '@clipwise/models/node';
import { run, tinyCifar, tinyE2E } from './train-helpers';

// --new-head: a ViT folder whose class count equals the data's still gets a fresh classifier (the
// study's class-disjoint transfer: five pre-training classes, five other private ones). The head is
// frozen here (--trainable bias), so the checkpoint's classifier.weight is the one training started from.
const VIT = { image_size: 32, patch_size: 16, num_channels: 3, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, num_labels: 10 };

const weights = (file: string) => new Map([...readSafetensorsFromBuffer(readFileSync(file)).tensors].map(([n, x]) => [n, Array.from(x.data as Float32Array)]));

describe('clipwise train --new-head', () => {
  const t = tinyCifar(8, 4);
  const train = (folder: string, out: string, extra: string[]) => run([
    'train', '--model', folder, '--data', t.train, '--eval-data', t.test, '--steps', '1', '--batch-size', '4', '--noise-multiplier', '1',
    '--trainable', 'bias', '--backend', 'cpu', '--eval-every', '1000', '--out', path.join(t.dir, out), ...extra,
  ]);

  it('starts a fresh classifier where the class counts agree; without it the folder\'s head is kept', async () => {
    const folder = path.join(t.dir, 'vit');
    const v = new VitModel(VIT, { seed: 3 });
    await savePretrained(v, folder);
    v.dispose();
    const before = weights(path.join(folder, 'model.safetensors'));
    for (const [out, extra] of [['kept', []], ['fresh', ['--new-head']]] as const) {
      const r = await train(folder, out, [...extra]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    }
    const kept = weights(path.join(t.dir, 'kept', 'checkpoint', 'model', 'model.safetensors'));
    const fresh = weights(path.join(t.dir, 'fresh', 'checkpoint', 'model', 'model.safetensors'));
    expect(kept.get('classifier.weight')).toEqual(before.get('classifier.weight'));
    expect(fresh.get('classifier.weight')).toHaveLength(before.get('classifier.weight')!.length);
    expect(fresh.get('classifier.weight')).not.toEqual(before.get('classifier.weight'));
    // everything frozen below the head is the folder's, bit for bit, either way
    const frozen = [...before.keys()].filter((n) => !n.endsWith('.bias') && !n.startsWith('classifier.'));
    expect(frozen.length).toBeGreaterThan(5);
    for (const n of frozen) expect(fresh.get(n), n).toEqual(before.get(n));
  });

  it('refuses a GPT-2, naming the flag', async () => {
    const e = tinyE2E();
    const r = await run(['train', '--config', e.config, '--steps', '1', '--new-head', '--out', path.join(e.dir, 'out')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--new-head applies to ViT classifiers/);
  });
});
