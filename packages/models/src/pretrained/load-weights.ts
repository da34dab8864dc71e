import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { checkCheckpointAgainst } from '../safetensors/check-checkpoint.js';
import type { SafetensorsHeader } from '../safetensors/header.js';
import type { SafetensorsTensor } from '../safetensors/tensor.js';
import { checkpointTensorsOf, joinPacked, qkvParts } from '../vit/qkv-layout.js';
import { VitModel, type VitQkvLayout } from '../vit/vit-model.js';
import { checkpointNaming, type CheckpointNaming } from './checkpoint-names.js';
import type { HfModelConfig } from './hf-config.js';
import type { PretrainedModel } from './pretrained-model.js';

// Shared by loadPretrainedFromBytes (any platform) and the Node entry's loadPretrained (a folder).

export interface LoadPretrainedOptions {
  /** Seed of the random initialisation of parameters the checkpoint does not give (a fresh ViT head). */
  readonly seed?: number;
  /**
   * ViT only: fine-tune on this many classes. The checkpoint's `classifier.*` (any shape, or none, as
   * in a headless `ViTModel` checkpoint) is ignored and a fresh head is initialised; `id2label` is
   * dropped. Like transformers' `num_labels=..., ignore_mismatched_sizes=True`, for the head only.
   */
  readonly numLabels?: number;
  /**
   * Called after each tensor is read with the parameter elements loaded so far and in all, for a
   * progress bar: a large checkpoint (GPT-2 small: 124M elements) takes seconds to read.
   */
  readonly onProgress?: (loaded: number, total: number) => void;
  /**
   * ViT only: the q|k|v layout to build (`VitOptions.qkv`, default 'separate'). 'packed' loads each
   * block's query, key and value tensors into one [3d, d] projection.
   */
  readonly vitQkv?: VitQkvLayout;
}

/** What loading needs of a checkpoint: a `SafetensorsFile` (disk) or a `SafetensorsBuffer` (bytes). */
export interface CheckpointReader {
  readonly path: string;
  readonly names: string[];
  readonly header: SafetensorsHeader;
  readTensor(name: string): Promise<SafetensorsTensor>;
  close(): Promise<void>;
}

/**
 * Builds the model `hf` describes and fills it from `file`, which it closes. `label` names the
 * checkpoint in errors. See `loadPretrained` for what is checked and tolerated.
 */
export async function loadPretrainedWeights(
  config: HfModelConfig,
  file: CheckpointReader,
  options: LoadPretrainedOptions,
  label: string,
): Promise<PretrainedModel> {
  let model: PretrainedModel | undefined;
  try {
    const hf = withLabels(config, options.numLabels, label);
    const freshHead = options.numLabels !== undefined;
    const naming = checkpointNaming(hf.type, file.names, freshHead);
    if (options.vitQkv !== undefined && hf.type !== 'vit') throw new ClipwiseModelError(`loadPretrained(${label}): vitQkv applies to ViT only; this is a GPT-2`);
    model = hf.type === 'gpt2' ? new Gpt2Model(hf.config, { seed: options.seed }) : new VitModel(hf.config, { seed: options.seed, qkv: options.vitQkv });
    const toLoad = model.params.filter((p) => !naming.ignored(p.name));
    const tensors = new Map([...file.header.tensors].map(([name, info]) => [naming.asParamName(name), info]));
    // a packed q|k|v parameter is three checkpoint tensors
    checkCheckpointAgainst(toLoad.flatMap(checkpointTensorsOf), { source: file.path, tensors }, { ignoreUnexpected: naming.ignored });
    const total = toLoad.reduce((n, p) => n + p.size, 0);
    let loaded = 0;
    options.onProgress?.(0, total);
    for (const p of toLoad) {
      const parts = qkvParts(p.name);
      assign(p, parts ? joinPacked(await Promise.all(parts.map((name) => readFloat(file, naming.fileName(name))))) : await readFloat(file, naming.fileName(p.name)));
      options.onProgress?.((loaded += p.size), total);
    }
    if (hf.type === 'gpt2' && file.header.tensors.has('lm_head.weight')) await checkTiedHead(file, naming, model.params[0]!);
    return model;
  } catch (err) {
    model?.dispose();
    throw err;
  } finally {
    await file.close();
  }
}

function withLabels(hf: HfModelConfig, numLabels: number | undefined, dir: string): HfModelConfig {
  if (numLabels === undefined) return hf;
  if (hf.type !== 'vit') throw new ClipwiseModelError(`loadPretrained(${dir}): numLabels applies to ViT classifiers only; this is a GPT-2`);
  if (!Number.isInteger(numLabels) || numLabels <= 0) {
    throw new ClipwiseModelError(`loadPretrained(${dir}): numLabels must be a positive integer, got ${numLabels}`);
  }
  const { id2label: _ids, label2id: _labels, ...rest } = hf.config as typeof hf.config & { label2id?: unknown };
  return { type: 'vit', config: { ...rest, num_labels: numLabels } };
}

async function readFloat(file: CheckpointReader, name: string): Promise<Float32Array> {
  const t = await file.readTensor(name);
  if (!(t.data instanceof Float32Array)) {
    throw new ClipwiseModelError(`tensor '${name}' in ${file.path} has integer dtype ${t.dtype}; model parameters must be floating point`);
  }
  return t.data;
}

function assign(p: ParamSpec, values: Float32Array): void {
  const t = tf.tensor(values, p.shape as number[], 'float32');
  p.variable.assign(t);
  t.dispose();
}

/** GPT-2 ties its LM head to wte: a saved head must be the same matrix. */
async function checkTiedHead(file: CheckpointReader, naming: CheckpointNaming, wte: ParamSpec): Promise<void> {
  const info = file.header.tensors.get('lm_head.weight')!;
  const sameShape = info.shape.length === 2 && info.shape[0] === wte.shape[0] && info.shape[1] === wte.shape[1];
  const head = sameShape ? await readFloat(file, 'lm_head.weight') : undefined;
  const embedding = head ? await readFloat(file, naming.fileName(wte.name)) : undefined;
  if (!head || !embedding || head.some((v, i) => v !== embedding[i])) {
    throw new ClipwiseModelError(
      `${file.path}: 'lm_head.weight' [${info.shape}] differs from the token embedding '${naming.fileName(wte.name)}' [${wte.shape}]; ` +
        'this GPT-2 ties its LM head to the embedding (tie_word_embeddings), so an untied head cannot be loaded',
    );
  }
}
