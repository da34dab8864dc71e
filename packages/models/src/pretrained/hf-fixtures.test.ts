import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { perSampleNorms } from '../diagnostics/per-sample-norms.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { VitModel } from '../vit/vit-model.js';
import { qkvParts } from '../vit/qkv-layout.js';
import { loadPretrained } from './load-pretrained.js';
import { savePretrainedToBytes } from './save-pretrained-to-bytes.js';
import { loadPretrainedFromBytes } from './load-pretrained-from-bytes.js';
import { relErr } from '../../../../tooling/test/rel-err';

// Folders written by transformers' save_pretrained, with float64 PyTorch references beside them:
// made by scripts/make_fixtures.py (see its header); these tests are skipped until they exist.
const fixtures = fileURLToPath(new URL('../../__fixtures__/', import.meta.url));
const present = (name: string) => ['config.json', 'model.safetensors', 'reference.json'].every((f) => existsSync(join(fixtures, name, f)));

interface Reference {
  readonly input_ids?: number[][];
  readonly pixel_values?: number[][][][];
  readonly labels?: number[];
  readonly logits: unknown[];
  readonly loss_per_sample: number[];
  readonly per_sample_param_norms: Record<string, number[]>;
}

const readReference = (name: string): Reference => JSON.parse(readFileSync(join(fixtures, name, 'reference.json'), 'utf8'));

/**
 * Checks float32 ghost norms against float64 PyTorch per-sample gradient norms, each parameter and
 * sample to `tol` relative. Norms below 1e-4 are compared absolutely (to `tol`·1e-4): ViT's key
 * biases have an exactly-zero true gradient (softmax ignores a shift shared by all keys), so both
 * sides are rounding noise (1e-10 to 1e-9 here, the other norms being 2e-3 to 4).
 */
function expectNormsClose(ours: Record<string, number[]>, ref: Record<string, number[]>, tol: number): void {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(ref).sort());
  for (const [name, want] of Object.entries(ref)) {
    want.forEach((w, i) => expect(Math.abs(ours[name]![i]! - w) / Math.max(w, 1e-4), `${name}[${i}]`).toBeLessThan(tol));
  }
}

describe.skipIf(!present('tiny-gpt2'))('tiny GPT-2 saved by transformers', () => {
  it('loads, and matches PyTorch logits (rel. 1e-4), losses and per-sample norms (rel. 1e-3)', async () => {
    const ref = readReference('tiny-gpt2');
    const model = await loadPretrained(join(fixtures, 'tiny-gpt2'));
    expect(model).toBeInstanceOf(Gpt2Model);
    const ids = tf.tensor2d(ref.input_ids!, undefined, 'int32');
    const logits = (model as Gpt2Model).logits(ids);
    expect(relErr(await logits.data(), ref.logits.flat(2) as number[])).toBeLessThan(1e-4);
    const result = await perSampleNorms(model, { input_ids: ref.input_ids! });
    expect(relErr(result.loss_per_sample, ref.loss_per_sample)).toBeLessThan(1e-4);
    expectNormsClose(result.per_sample_param_norms, ref.per_sample_param_norms, 1e-3);
    tf.dispose([ids, logits]);
    model.dispose();
  });
});

describe.skipIf(!present('tiny-vit'))('tiny ViT saved by transformers', () => {
  it('loads, and matches PyTorch logits (rel. 1e-4), losses and per-sample norms (rel. 1e-3)', async () => {
    const ref = readReference('tiny-vit');
    const model = await loadPretrained(join(fixtures, 'tiny-vit'));
    expect(model).toBeInstanceOf(VitModel);
    const pixels = tf.tensor4d(ref.pixel_values!);
    const logits = (model as VitModel).logits(pixels);
    expect(relErr(await logits.data(), ref.logits.flat() as number[])).toBeLessThan(1e-4);
    const result = await perSampleNorms(model, { pixel_values: ref.pixel_values!, labels: ref.labels! });
    expect(relErr(result.loss_per_sample, ref.loss_per_sample)).toBeLessThan(1e-4);
    expectNormsClose(result.per_sample_param_norms, ref.per_sample_param_norms, 1e-3);
    tf.dispose([pixels, logits]);
    model.dispose();
  });

  it("loads into timm's packed q|k|v (qkv: 'packed'): the same logits and losses, the packed norms those of q, k, v together, and saves Hugging Face's tensors back", async () => {
    const ref = readReference('tiny-vit');
    const model = (await loadPretrained(join(fixtures, 'tiny-vit'), { vitQkv: 'packed' })) as VitModel;
    expect(model.qkvLayout).toBe('packed');
    expect(model.params.some((p) => p.name.endsWith('.query.weight'))).toBe(false);
    const pixels = tf.tensor4d(ref.pixel_values!);
    const logits = model.logits(pixels);
    expect(relErr(await logits.data(), ref.logits.flat() as number[])).toBeLessThan(1e-4);
    const result = await perSampleNorms(model, { pixel_values: ref.pixel_values!, labels: ref.labels! });
    expect(relErr(result.loss_per_sample, ref.loss_per_sample)).toBeLessThan(1e-4);
    // a packed parameter's per-sample norm is the root of its three parts' squared PyTorch norms
    const want: Record<string, number[]> = {};
    for (const p of model.params) {
      const parts = qkvParts(p.name);
      want[p.name] = parts ? ref.per_sample_param_norms[parts[0]!]!.map((_, i) => Math.hypot(...parts.map((n) => ref.per_sample_param_norms[n]![i]!))) : ref.per_sample_param_norms[p.name]!;
    }
    expectNormsClose(result.per_sample_param_norms, want, 1e-3);
    // saved, it is a Hugging Face checkpoint again: the separate layout loads it to the same logits
    const separate = await loadPretrainedFromBytes(await savePretrainedToBytes(model));
    expect((separate as VitModel).qkvLayout).toBe('separate');
    const again = (separate as VitModel).logits(pixels);
    expect(relErr(await again.data(), ref.logits.flat() as number[])).toBeLessThan(1e-4);
    tf.dispose([pixels, logits, again]);
    model.dispose();
    separate.dispose();
  });
});
