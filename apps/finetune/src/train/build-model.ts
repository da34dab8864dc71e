import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  GPT2_PRESETS, Gpt2Model, VIT_PRESETS, VitModel, loadPretrained, parseHfConfig, validateGpt2Config, validateVitConfig,
  type Gpt2Config, type HfModelConfig, type PretrainedModel, type ResolvedVitConfig,
} from '@clipwise/models/node';
import { readJsonFile } from '../json-text';
import { progressCallback } from '../progress/progress';
import { UsageError } from '../usage-error';
import type { Gpt2SubsetVocab } from '@clipwise/models';
import type { TrainConfig } from './train-config';

/** The file beside config.json that holds a model folder's `gpt2-subset` vocabulary. */
export const FOLDER_VOCAB_FILE = 'tokenizer.json';

/**
 * A model folder's `tokenizer.json` ({"gpt2Ids": [...]}, written by a `gpt2-subset` pre-training
 * run), or undefined when the folder has none.
 */
export function readFolderVocab(dir: string): Gpt2SubsetVocab | undefined {
  const file = path.join(dir, FOLDER_VOCAB_FILE);
  if (!existsSync(file)) return undefined;
  const bad = (m: string) => new UsageError(`--model ${dir}: ${m}`);
  const raw = readJsonFile(file, bad) as { gpt2Ids?: unknown };
  if (!Array.isArray(raw?.gpt2Ids) || !raw.gpt2Ids.every((id) => Number.isInteger(id))) throw bad(`${file} must hold {"gpt2Ids": [integers]} (a gpt2-subset vocabulary)`);
  return { gpt2Ids: raw.gpt2Ids as number[] };
}

const PRESETS = [...Object.keys(GPT2_PRESETS), ...Object.keys(VIT_PRESETS)];

/** The model's family and config before any weights exist: a preset (with --config's "model-config") or a folder's config.json. */
export async function modelSpec(config: TrainConfig): Promise<HfModelConfig & { fromDir: boolean }> {
  const overrides = config['model-config'] ?? {};
  if (GPT2_PRESETS[config.model]) return { type: 'gpt2', config: { ...GPT2_PRESETS[config.model]!, ...overrides }, fromDir: false };
  if (VIT_PRESETS[config.model]) return { type: 'vit', config: { ...VIT_PRESETS[config.model]!, ...overrides } as ResolvedVitConfig, fromDir: false };
  const hfConfig = path.join(config.model, 'config.json');
  if (existsSync(hfConfig)) {
    if (Object.keys(overrides).length) throw new UsageError('"model-config" only applies to a preset --model, not to a checkpoint folder');
    // read once, with the line and column of a syntax error (V8's message lacks them for some errors)
    const bad = (m: string) => new UsageError(`--model ${config.model}: ${m}`);
    const raw = readJsonFile(hfConfig, bad);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`${hfConfig} must hold a JSON object`);
    return { ...parseHfConfig(raw as Record<string, unknown>, hfConfig), fromDir: true };
  }
  throw new UsageError(`--model '${config.model}' is neither a preset (${PRESETS.join(', ')}) nor a folder with config.json + model.safetensors`);
}

/**
 * Builds the model to train. Presets are initialised from --seed with the vocabulary, context and
 * class count the data needs; a folder is loaded with `loadPretrained` (a ViT gets a fresh head
 * when its class count differs from the data's, or with --new-head) and must already match the tokenizer.
 */
export async function buildModel(
  spec: HfModelConfig & { fromDir: boolean },
  config: TrainConfig,
  needs: { vocabSize?: number; seqLen?: number; numLabels?: number },
): Promise<PretrainedModel> {
  if (spec.type === 'gpt2') {
    if (needs.vocabSize === undefined) throw new UsageError(`--model ${config.model} is a GPT-2 but --task is images; use a ViT (vit-tiny, vit-mini) or a text task`);
    if (config['new-head']) throw new UsageError(`--new-head applies to ViT classifiers; --model ${config.model} is a GPT-2 (its output layer is tied to the token embeddings)`);
    if (!spec.fromDir) {
      const c: Gpt2Config = validateGpt2Config({ ...spec.config, vocab_size: needs.vocabSize, n_positions: Math.max(needs.seqLen!, 8) }, `--model ${config.model}`);
      return new Gpt2Model(c, { seed: config.seed });
    }
    if (spec.config.vocab_size !== needs.vocabSize) {
      throw new UsageError(`--tokenizer ${config.tokenizer} has ${needs.vocabSize} tokens but --model ${config.model} has vocab_size ${spec.config.vocab_size}; use --tokenizer gpt2 (50257) or byte (257) to match`);
    }
    if (spec.config.n_positions < needs.seqLen!) throw new UsageError(`--seq-len ${needs.seqLen} exceeds the model's n_positions ${spec.config.n_positions}`);
    return loadPretrained(config.model, { seed: config.seed, onProgress: progressCallback(`loading ${config.model}, parameters`) });
  }
  if (needs.numLabels === undefined) throw new UsageError(`--model ${config.model} is a ViT; use --task images (or a GPT-2 model for text)`);
  const qkv = config['vit-qkv'];
  if (!spec.fromDir) return new VitModel(validateVitConfig({ ...spec.config, num_labels: needs.numLabels }, `--model ${config.model}`), { seed: config.seed, qkv });
  const fresh = config['new-head'] || spec.config.num_labels !== needs.numLabels;
  return loadPretrained(config.model, { seed: config.seed, vitQkv: qkv, onProgress: progressCallback(`loading ${config.model}, parameters`), ...(fresh ? { numLabels: needs.numLabels } : {}) });
}
