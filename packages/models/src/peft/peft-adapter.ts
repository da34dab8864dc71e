import * as tf from '@tensorflow/tfjs-core';
import type { LoraAdapter, ParamSpec } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { modelTypeOf, type PretrainedModel } from '../pretrained/pretrained-model.js';
import { SafetensorsBuffer } from '../safetensors/read-safetensors-buffer.js';
import { serializeSafetensors } from '../safetensors/serialize-safetensors.js';
import type { SafetensorsTensorInput } from '../safetensors/tensor.js';
import { PEFT_PREFIX, adaptedTargetModules, addLora, loraAdapters, removeLora } from './add-lora.js';
import { loraModulesToSave } from './modules-to-save.js';

/** The fields of peft's `adapter_config.json` for LoRA that Clipwise writes and reads. */
export interface PeftLoraConfig {
  readonly peft_type: 'LORA';
  readonly r: number;
  readonly lora_alpha: number;
  /** Module names, or one regular expression (`all-linear` included) that the whole name must match. */
  readonly target_modules: string[] | string;
  /** True when the base weights are stored [in, out] (GPT-2's Conv1D). */
  readonly fan_in_fan_out: boolean;
  readonly use_rslora: boolean;
  readonly task_type: string | null;
  /** Modules trained in full beside the adapters (a module matches when its name ends with one), or null. */
  readonly modules_to_save: string[] | null;
  readonly [field: string]: unknown;
}

/** An adapter folder's two files, in memory. */
export interface SavedAdapter {
  /** The text of `adapter_config.json`. */
  readonly config: string;
  /** The bytes of `adapter_model.safetensors`. */
  readonly weights: Uint8Array<ArrayBuffer>;
}

/** peft's config for the model's adapters (all share r, α and layout). */
export function peftLoraConfig(model: PretrainedModel, adapters = loraAdapters(model)): PeftLoraConfig {
  const first = adapters[0];
  if (!first) throw new ClipwiseModelError('the model has no LoRA adapter to save; add one with addLora');
  const toSave = loraModulesToSave(model)?.names ?? null;
  const targets = adaptedTargetModules(model, adapters, toSave ?? []);
  return {
    peft_type: 'LORA', task_type: modelTypeOf(model) === 'gpt2' ? 'CAUSAL_LM' : null, r: first.rank, lora_alpha: first.alpha, target_modules: targets,
    fan_in_fan_out: first.base.layout === 'in_out', use_rslora: first.rsLora, lora_dropout: 0, bias: 'none',
    inference_mode: true, init_lora_weights: true, modules_to_save: toSave ? [...toSave] : null, layers_to_transform: null, layers_pattern: null,
    rank_pattern: {}, alpha_pattern: {}, use_dora: false, base_model_name_or_path: null, revision: null,
  };
}

/**
 * The name peft saves a parameter of a module to save under: `base_model.model.<module>.<param>`,
 * e.g. `base_model.model.classifier.weight`, with no `modules_to_save` part. peft's
 * `get_peft_model_state_dict` stores `f"{name}.{k}"` for each `ModulesToSaveWrapper` `name`
 * (`base_model.model.classifier`) and each key k of `adapter_state_dict`, which strips the wrapper's
 * `modules_to_save.<adapter>.` (huggingface/peft at 5d602fd, peft 0.20.1.dev0:
 * src/peft/utils/save_and_load.py:181-197, src/peft/utils/other.py:789-797); loading maps it back
 * through `adapter_state_dict_load_map` (other.py:780-787, save_and_load.py:506-522). peft before
 * 0.15 wrote the same key (`key.replace("modules_to_save.", "")`, then the adapter name removed).
 */
export function peftSavedName(param: string): string {
  return `${PEFT_PREFIX}${param}`;
}

/**
 * The model's LoRA adapters as Hugging Face peft saves them (`save_pretrained` of a `PeftModel`):
 * `adapter_config.json` and `adapter_model.safetensors` holding
 * `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r] (float32), and
 * every parameter of the modules to save under `base_model.model.<module>.<param>` (see
 * {@link peftSavedName}; `base_model.model.classifier.weight`, `.bias`). peft's
 * `PeftModel.from_pretrained(base, dir)` and `loadAdapterFromBytes` read them back.
 *
 * @example
 * const { config, weights } = await saveAdapterToBytes(model); // adapter_config.json, adapter_model.safetensors
 */
export async function saveAdapterToBytes(model: PretrainedModel): Promise<SavedAdapter> {
  const adapters = loraAdapters(model);
  const config = `${JSON.stringify(peftLoraConfig(model, adapters), null, 2)}\n`;
  const tensors: Record<string, SafetensorsTensorInput> = {};
  const float32 = async (p: ParamSpec): Promise<SafetensorsTensorInput> => ({ dtype: 'F32', shape: p.shape, data: (await p.variable.data()) as Float32Array });
  for (const a of adapters) {
    for (const l of a.layers) for (const p of l.ownParams()) tensors[p.name] = await float32(p);
  }
  for (const p of loraModulesToSave(model)?.params ?? []) tensors[peftSavedName(p.name)] = await float32(p);
  return { config, weights: serializeSafetensors(tensors, { format: 'pt' }) };
}

/** Reads and checks an `adapter_config.json` text; `source` names it in errors. */
export function parsePeftLoraConfig(text: string, source = 'adapter_config.json'): PeftLoraConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ClipwiseModelError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ClipwiseModelError(`${source}: expected a JSON object`);
  const c = raw as Record<string, unknown>;
  if (c['peft_type'] !== 'LORA') throw new ClipwiseModelError(`${source}: peft_type is ${JSON.stringify(c['peft_type'])}; only LoRA adapters ("LORA") are supported`);
  if (!Number.isInteger(c['r']) || (c['r'] as number) <= 0) throw new ClipwiseModelError(`${source}: r must be a positive integer, got ${JSON.stringify(c['r'])}`);
  const alpha = c['lora_alpha'] ?? 8;
  if (typeof alpha !== 'number' || !(alpha > 0)) throw new ClipwiseModelError(`${source}: lora_alpha must be a positive number, got ${JSON.stringify(alpha)}`);
  const targets = c['target_modules'];
  const isList = Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string');
  if (!isList && !(typeof targets === 'string' && targets !== '')) {
    throw new ClipwiseModelError(`${source}: target_modules must be a non-empty list of module names or one regular expression ('all-linear' included), got ${JSON.stringify(targets)}`);
  }
  const toSave = c['modules_to_save'] ?? null;
  if (toSave !== null && !(Array.isArray(toSave) && toSave.length > 0 && toSave.every((m) => typeof m === 'string' && m !== ''))) {
    throw new ClipwiseModelError(`${source}: modules_to_save must be null or a non-empty list of module names, got ${JSON.stringify(toSave)}`);
  }
  for (const [field, off] of [['use_dora', false], ['rank_pattern', {}], ['alpha_pattern', {}], ['layers_to_transform', null]] as const) {
    if (c[field] !== undefined && JSON.stringify(c[field]) !== JSON.stringify(off)) {
      throw new ClipwiseModelError(`${source}: ${field} = ${JSON.stringify(c[field])} is not supported (only plain LoRA on linear layers: ${field} must be ${JSON.stringify(off)} or absent)`);
    }
  }
  return {
    ...c, peft_type: 'LORA', r: c['r'] as number, lora_alpha: alpha, target_modules: targets as string[] | string,
    fan_in_fan_out: c['fan_in_fan_out'] === true, use_rslora: c['use_rslora'] === true, task_type: (c['task_type'] as string | null | undefined) ?? null,
    modules_to_save: toSave as string[] | null,
  };
}

/**
 * Adds the adapter of a peft folder's two files to `model` (as `addLora`, base frozen) and fills A
 * and B from the file; the parameters of `modules_to_save` (trainable, as after `addLora`) are
 * replaced by the file's `base_model.model.<module>.<param>`. Checks that the file holds exactly the
 * tensors of the targeted modules and the modules to save, with the model's shapes (a saved head
 * for another class count is refused: build the base with that count, `loadPretrained(dir,
 * { numLabels })`; see `adapterNumLabels`), and that `fan_in_fan_out` matches the model's layout.
 * Nothing of the model changes unless every check passes.
 *
 * @example
 * const adapters = await loadAdapterFromBytes(model, { config: configText, weights: bytes });
 */
export async function loadAdapterFromBytes(model: PretrainedModel, files: SavedAdapter, source = '<adapter>'): Promise<LoraAdapter[]> {
  const cfg = parsePeftLoraConfig(files.config, `${source}/adapter_config.json`);
  const file = SafetensorsBuffer.open(files.weights, `${source}/adapter_model.safetensors`);
  const adapters = addLora(model, {
    rank: cfg.r, alpha: cfg.lora_alpha, targets: cfg.target_modules, rsLora: cfg.use_rslora, ...(cfg.modules_to_save ? { modulesToSave: cfg.modules_to_save } : {}),
  });
  try {
    const layoutFanIn = adapters[0]!.base.layout === 'in_out';
    if (cfg.fan_in_fan_out !== layoutFanIn) {
      throw new ClipwiseModelError(`${source}/adapter_config.json: fan_in_fan_out is ${cfg.fan_in_fan_out} but this model's targeted layers store weights ${layoutFanIn ? '[in, out] (Conv1D: true)' : '[out, in] (nn.Linear: false)'}; the adapter was made for another model`);
    }
    const lora = adapters.flatMap((a) => [a.a.weight, a.b.weight]).map((p) => ({ p, name: p.name }));
    const saved = (loraModulesToSave(model)?.params ?? []).map((p) => ({ p, name: peftSavedName(p.name) }));
    const wanted = new Set([...lora, ...saved].map((x) => x.name));
    const extra = file.names.filter((n) => !wanted.has(n));
    if (extra.length > 0) {
      throw new ClipwiseModelError(
        `${file.path}: tensors ${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', ...' : ''} belong to no targeted module${saved.length ? ' or module to save' : ''} of this model ` +
          `(expected names like ${PEFT_PREFIX}${adapters[0]!.base.name}.lora_A.weight${saved.length ? ` and ${saved[0]!.name}` : ''}${cfg.modules_to_save ? '' : '; a module trained in full needs modules_to_save in adapter_config.json'})`,
      );
    }
    // decode and check everything before the first assignment: a refused file leaves the model's own weights as they were
    const values = [...lora, ...saved].map(({ p, name }) => {
      if (!file.header.tensors.has(name)) throw new ClipwiseModelError(`${file.path}: tensor ${name} [${p.shape}] is missing`);
      const t = file.decode(name);
      if (t.shape.join(',') !== p.shape.join(',')) {
        const why = name.includes('.lora_')
          ? '(peft: lora_A [r, in], lora_B [out, r])'
          : `(a module to save must have the base model's shape${/classifier\.(weight|bias)$/.test(name) ? `: this adapter's head has ${t.shape[0]} classes; load the base with loadPretrained(dir, { numLabels: ${t.shape[0]} })` : ''})`;
        throw new ClipwiseModelError(`${file.path}: ${name} has shape [${t.shape}], expected [${p.shape}] ${why}`);
      }
      if (!(t.data instanceof Float32Array)) throw new ClipwiseModelError(`${file.path}: ${name} has integer dtype ${t.dtype}`);
      return { p, data: t.data };
    });
    for (const { p, data } of values) {
      const value = tf.tensor(data, p.shape as number[], 'float32');
      p.variable.assign(value);
      value.dispose();
    }
  } catch (e) {
    removeLora(model);
    throw e;
  }
  return adapters;
}

/**
 * The class count of an adapter's saved ViT head (`base_model.model.classifier.weight` [classes, d],
 * from `modules_to_save: ["classifier"]`), or undefined when it saves none. A head trained for
 * another class count than the base checkpoint's loads onto `loadPretrained(dir, { numLabels })`.
 *
 * @example
 * const numLabels = adapterNumLabels(files);
 * const base = await loadPretrained('vit-dir', numLabels === undefined ? {} : { numLabels });
 * await loadAdapterFromBytes(base, files);
 */
export function adapterNumLabels(files: SavedAdapter, source = '<adapter>'): number | undefined {
  const info = SafetensorsBuffer.open(files.weights, `${source}/adapter_model.safetensors`).header.tensors.get(peftSavedName('classifier.weight'));
  return info && info.shape.length === 2 ? info.shape[0] : undefined;
}
