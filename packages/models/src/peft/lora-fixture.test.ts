import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { perSampleNorms } from '../diagnostics/per-sample-norms.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { loadPretrained } from '../pretrained/load-pretrained.js';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';
import { VitModel } from '../vit/vit-model.js';
import { mergeLora } from './merge-lora.js';
import { loadAdapter } from './save-adapter.js';
import { relErr } from '../rel-err.test-util.js';

// Adapters written in peft's format by scripts/make_lora_fixture.py (torch + transformers, no peft),
// with float64 references: the adapted logits (merged weights and forward hooks, which agree to
// 1e-10) and per-sample norms of every lora_A / lora_B. Skipped until the fixture folders exist.
const fixtures = fileURLToPath(new URL('../../__fixtures__/', import.meta.url));
const files = ['base/config.json', 'base/model.safetensors', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'reference.json'];
const present = (name: string) => files.every((f) => existsSync(join(fixtures, name, f)));
const missing = (name: string) => `fixture ${join(fixtures, name)} not made yet: run python3 packages/models/scripts/make_lora_fixture.py (torch + transformers)`;

interface Reference {
  readonly input_ids?: number[][];
  readonly pixel_values?: number[][][][];
  readonly labels?: number[];
  readonly logits_base: unknown[];
  readonly logits: unknown[];
  readonly loss_per_sample: number[];
  readonly per_sample_lora_norms: Record<string, number[]>;
}

async function logitsOf(model: PretrainedModel, ref: Reference): Promise<Float32Array> {
  const out = tf.tidy(() =>
    model instanceof Gpt2Model ? model.logits(tf.tensor2d(ref.input_ids!, undefined, 'int32')) : (model as VitModel).logits(tf.tensor4d(ref.pixel_values!)),
  );
  const v = (await out.data()) as Float32Array;
  out.dispose();
  return v;
}

async function checkFixture(name: string): Promise<void> {
  const dir = join(fixtures, name);
  const ref: Reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const model = await loadPretrained(join(dir, 'base'));
  const flat = (x: unknown[]) => x.flat(3) as number[];
  expect(relErr(await logitsOf(model, ref), flat(ref.logits_base))).toBeLessThan(1e-4);
  await loadAdapter(model, join(dir, 'adapter'));
  const adapted = await logitsOf(model, ref);
  expect(relErr(adapted, flat(ref.logits_base))).toBeGreaterThan(1e-2); // the adapter matters
  expect(relErr(adapted, flat(ref.logits))).toBeLessThan(1e-4);
  const input = ref.input_ids ? { input_ids: ref.input_ids } : { pixel_values: ref.pixel_values!, labels: ref.labels! };
  const norms = await perSampleNorms(model, input);
  expect(relErr(norms.loss_per_sample, ref.loss_per_sample)).toBeLessThan(1e-4);
  expect(Object.keys(norms.per_sample_param_norms).sort()).toEqual(Object.keys(ref.per_sample_lora_norms).sort());
  for (const [param, want] of Object.entries(ref.per_sample_lora_norms)) {
    want.forEach((w, i) => expect(Math.abs(norms.per_sample_param_norms[param]![i]! - w) / Math.max(w, 1e-4), `${param}[${i}]`).toBeLessThan(1e-3));
  }
  mergeLora(model);
  expect(relErr(await logitsOf(model, ref), flat(ref.logits))).toBeLessThan(1e-4);
  model.dispose();
}

describe('LoRA adapters written in peft format by torch', () => {
  it.skipIf(!present('lora-gpt2'))(`GPT-2 (Conv1D, fan_in_fan_out): logits, losses and per-sample A/B norms match torch${present('lora-gpt2') ? '' : ` — SKIPPED: ${missing('lora-gpt2')}`}`, async () => {
    await checkFixture('lora-gpt2');
  });
  it.skipIf(!present('lora-vit'))(`ViT (nn.Linear): logits, losses and per-sample A/B norms match torch${present('lora-vit') ? '' : ` — SKIPPED: ${missing('lora-vit')}`}`, async () => {
    await checkFixture('lora-vit');
  });
});
