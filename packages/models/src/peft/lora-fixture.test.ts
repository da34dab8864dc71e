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
import { readSafetensorsFromBuffer } from '../safetensors/read-safetensors-buffer.js';
import { saveAdapterToBytes } from './peft-adapter.js';
import { loadAdapter, readAdapterNumLabels } from './save-adapter.js';
import { relErr } from '../../../../tooling/test/rel-err';

// Adapters written in peft's format by scripts/make_lora_fixture.py (torch + transformers, no peft),
// with float64 references: the adapted logits (merged weights and forward hooks, which agree to
// 1e-10) and per-sample norms of every lora_A / lora_B (and, in lora-vit-head, of the classifier
// saved through modules_to_save). Tolerances: logits and losses 1e-4 relative, norms 1e-3 (float32
// here). Skipped until the fixture folders exist.
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

/** lora-vit-head: LoRA on query, value plus modules_to_save ["classifier"], a 3-class head on a 5-class base. */
interface HeadReference {
  readonly num_labels: number;
  readonly pixel_values: number[][][][];
  readonly labels: number[];
  readonly logits: number[][];
  readonly loss_per_sample: number[];
  /** Every trainable tensor: lora_A/B and base_model.model.classifier.weight / .bias. */
  readonly per_sample_norms: Record<string, number[]>;
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

async function checkHeadFixture(): Promise<void> {
  const dir = join(fixtures, 'lora-vit-head');
  const adapter = join(dir, 'adapter');
  const ref: HeadReference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  // the head was trained for 3 classes, the base has 5: it loads onto a base built for 3
  const five = await loadPretrained(join(dir, 'base'));
  await expect(loadAdapter(five, adapter)).rejects.toThrow(/classifier\.weight has shape \[3,16\], expected \[5,16\].*numLabels: 3/);
  five.dispose();
  const numLabels = await readAdapterNumLabels(adapter);
  expect(numLabels).toBe(ref.num_labels);
  const model = await loadPretrained(join(dir, 'base'), { numLabels });
  await loadAdapter(model, adapter);
  const adapted = await logitsOf(model, ref as unknown as Reference);
  expect(relErr(adapted, ref.logits.flat())).toBeLessThan(1e-4);
  const norms = await perSampleNorms(model, { pixel_values: ref.pixel_values, labels: ref.labels });
  expect(relErr(norms.loss_per_sample, ref.loss_per_sample)).toBeLessThan(1e-4);
  expect(Object.keys(norms.per_sample_param_norms).sort()).toEqual(Object.keys(ref.per_sample_norms).sort());
  expect(Object.keys(norms.per_sample_param_norms)).toContain('base_model.model.classifier.bias');
  for (const [param, want] of Object.entries(ref.per_sample_norms)) {
    want.forEach((w, i) => expect(Math.abs(norms.per_sample_param_norms[param]![i]! - w) / Math.max(w, 1e-4), `${param}[${i}]`).toBeLessThan(1e-3));
  }
  // saved again, the file's tensors come back bit for bit
  const file = readSafetensorsFromBuffer(readFileSync(join(adapter, 'adapter_model.safetensors'))).tensors;
  const again = readSafetensorsFromBuffer((await saveAdapterToBytes(model)).weights).tensors;
  expect([...again.keys()].sort()).toEqual([...file.keys()].sort());
  const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  for (const [name, t] of file) expect(bits(again.get(name)!.data as Float32Array).equals(bits(t.data as Float32Array)), name).toBe(true);
  mergeLora(model);
  expect(relErr(await logitsOf(model, ref as unknown as Reference), ref.logits.flat())).toBeLessThan(1e-4);
  model.dispose();
}

describe('LoRA adapters written in peft format by torch', () => {
  it.skipIf(!present('lora-gpt2'))(`GPT-2 (Conv1D, fan_in_fan_out): logits, losses and per-sample A/B norms match torch${present('lora-gpt2') ? '' : ` — SKIPPED: ${missing('lora-gpt2')}`}`, async () => {
    await checkFixture('lora-gpt2');
  });
  it.skipIf(!present('lora-vit'))(`ViT (nn.Linear): logits, losses and per-sample A/B norms match torch${present('lora-vit') ? '' : ` — SKIPPED: ${missing('lora-vit')}`}`, async () => {
    await checkFixture('lora-vit');
  });
  it.skipIf(!present('lora-vit-head'))(
    `ViT with modules_to_save ["classifier"] (a 3-class head on a 5-class base): logits, losses and per-sample norms of A, B and the head match torch; re-saved bit for bit${present('lora-vit-head') ? '' : ` — SKIPPED: ${missing('lora-vit-head')}`}`,
    async () => {
      await checkHeadFixture();
    },
  );
});
