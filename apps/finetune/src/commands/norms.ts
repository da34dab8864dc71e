import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BACKEND_NAMES, setupBackend, type BackendName } from '@clipwise/core';
import { formatNormTable, loadAdapter, loadPretrained, perSampleNorms, readAdapterNumLabels, readHfConfig } from '@clipwise/models/node';
import type { CommandSpec } from '../flags/command-spec';
import { resolveFlags, type FlagSpec } from '../flags/flag-spec';
import { parseJsonText, readJsonFile } from '../json-text';
import { progressCallback } from '../progress/progress';

const NORMS_FLAGS: readonly FlagSpec[] = [
  { name: 'model', kind: 'string', value: 'DIR', required: true, description: 'a Hugging Face checkpoint folder (config.json and model.safetensors), GPT-2 or ViT' },
  { name: 'adapter', kind: 'string', value: 'ADIR', description: "a peft LoRA adapter folder (adapter_config.json, adapter_model.safetensors) on --model: the norms are the adapter's and its modules_to_save's, under peft's names; the rest of the base is frozen and has none (a ViT head saved for another class count replaces --model's)" },
  { name: 'input', kind: 'string', value: 'FILE', required: true, description: 'JSON batch: {"input_ids": [[...]]} for GPT-2, {"pixel_values": [B][C][H][W], "labels": [...]} for ViT' },
  { name: 'grouping', kind: 'string', value: 'G', description: 'also the norms per group of this grouping', defaultText: 'per parameter only' },
  { name: 'clip-norm', kind: 'pos', value: 'C', default: 1, description: "clipping norm C (the grouping's thresholds)" },
  { name: 'json', kind: 'bool', description: 'print one JSON object instead of the table (and no progress)' },
  { name: 'backend', kind: [...BACKEND_NAMES], default: 'cpu', description: 'TensorFlow.js backend' },
];

/** `clipwise norms`: checks its flags and runs `runNorms`. */
export const NORMS_COMMAND: CommandSpec = {
  name: 'norms',
  summary: 'per-sample gradient norms of a Hugging Face checkpoint on a batch, to choose clipping thresholds',
  description:
    'Per-sample gradient norms of a Hugging Face checkpoint (config.json + model.safetensors) on a batch, per parameter ' +
    '(and per group with --grouping): a table of quantiles, or with --json every norm.',
  flags: NORMS_FLAGS,
  examples: [
    'clipwise norms --model packages/models/__fixtures__/tiny-gpt2 --input my-batch.json --grouping layer-wise',
    'clipwise norms --model gpt2-dir --adapter runs/lora/adapter --input my-batch.json --json',
  ],
  async run(values, io) {
    const f = resolveFlags(NORMS_FLAGS, values);
    await runNorms({
      model: f['model'] as string,
      input: f['input'] as string,
      adapter: f['adapter'] as string | undefined,
      grouping: f['grouping'] as string | undefined,
      clipNorm: f['clip-norm'] as number,
      json: f['json'] === true,
      backend: f['backend'] as BackendName,
      log: io.log,
    });
    return 0;
  },
};

export interface NormsOptions {
  model: string;
  input: string;
  /** A peft LoRA adapter folder to add to the model: only its A and B (and its modules_to_save) get norms. */
  adapter?: string;
  grouping?: string;
  clipNorm: number;
  json: boolean;
  backend: BackendName;
  log: (line: string) => void;
}

/**
 * `clipwise norms`: per-sample gradient norms of a Hugging Face checkpoint on a batch, per
 * parameter (and per group with --grouping), to choose clipping thresholds.
 */
export async function runNorms(o: NormsOptions): Promise<void> {
  await setupBackend(o.backend);
  let text: string;
  try {
    text = await readFile(o.input, 'utf8');
  } catch (e) {
    throw new Error(`--input ${o.input}: cannot read it (${(e as Error).message})`);
  }
  const input = parseJsonText(text, `--input ${o.input}`);
  const hfConfig = path.join(o.model, 'config.json');
  // loadPretrained's message has V8's position, which some errors lack: name the line and column first.
  if (existsSync(hfConfig)) readJsonFile(hfConfig, (m) => new Error(`--model ${o.model}: ${m}`));
  // a ViT head trained through modules_to_save for another class count goes on a base built for that count
  const numLabels = o.adapter ? await readAdapterNumLabels(o.adapter) : undefined;
  const base = numLabels === undefined ? undefined : await readHfConfig(o.model);
  const freshHead = base?.type === 'vit' && base.config.num_labels !== numLabels;
  const model = await loadPretrained(o.model, { onProgress: progressCallback(`loading ${o.model}, parameters`), ...(freshHead ? { numLabels } : {}) });
  try {
    if (o.adapter) await loadAdapter(model, o.adapter);
    const result = await perSampleNorms(model, input as Parameters<typeof perSampleNorms>[1], {
      grouping: o.grouping,
      clipNorm: o.clipNorm,
    });
    o.log(o.json ? JSON.stringify(result) : formatNormTable(result, { by: o.grouping ? 'group' : 'param' }));
  } finally {
    model.dispose();
  }
}
