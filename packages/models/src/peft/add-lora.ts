import { ClipwiseConfigError, Linear, LoraAdapter, checkLoraSize, setTrainable } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { modelTypeOf, type PretrainedModel } from '../pretrained/pretrained-model.js';

/** Where LoRA goes and how large it is; the fields of peft's `LoraConfig` that matter here. */
export interface LoraSettings {
  /** Rank r (positive integer). */
  readonly rank: number;
  /** α; the update is scaled by α/r. Default r. */
  readonly alpha?: number;
  /**
   * Module names, matched as peft matches `target_modules`: a linear layer is targeted when its name
   * equals a target or ends with `.target` (GPT-2: c_attn, c_proj, c_fc; ViT: query, key, value,
   * dense). Default: GPT-2 ['c_attn'], ViT ['query', 'value'] (peft's defaults for these models).
   */
  readonly targets?: readonly string[];
  /** α/sqrt(r) instead of α/r (peft's `use_rslora`). */
  readonly rsLora?: boolean;
  /** Seed of the A matrices' initialisation (B starts at zero). */
  readonly seed?: number;
}

/** The name prefix of LoRA tensors in peft's files: `base_model.model.<module>.lora_A.weight`. */
export const PEFT_PREFIX = 'base_model.model.';

/** peft's default target modules for the two families (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export function defaultLoraTargets(model: PretrainedModel): string[] {
  return modelTypeOf(model) === 'gpt2' ? ['c_attn'] : ['query', 'value'];
}

/** The model's own linear layers that may carry an adapter (GPT-2's head is tied to the embedding: not one of them). */
function baseLinears(model: PretrainedModel): Linear[] {
  const own = new Set(model.params);
  return model.layers.filter((l): l is Linear => l instanceof Linear && own.has(l.weight) && l.ownParams().includes(l.weight));
}

/** Whether a module name is targeted, as peft's `check_target_module_exists` decides for a list. */
export function matchesLoraTarget(module: string, target: string): boolean {
  return module === target || module.endsWith(`.${target}`);
}

/** The LoRA adapters attached to a model's linear layers, in forward order. */
export function loraAdapters(model: PretrainedModel): LoraAdapter[] {
  return model.layers.flatMap((l) => (l instanceof Linear && l.adapter instanceof LoraAdapter ? [l.adapter] : []));
}

/**
 * Adds LoRA (Hu et al. 2021) to the model's linear layers named by `settings.targets` and freezes
 * every parameter of the model itself, as peft's `get_peft_model` does: afterwards
 * `model.trainableParams` lists the A and B matrices only (unfreeze more with `selectTrainable`).
 * The adapters' parameters carry peft's names (`base_model.model.transformer.h.0.attn.c_attn.lora_A.weight`,
 * A [r, in], B [out, r]), so norms, groupings and saved files speak peft's language. Throws naming
 * a target that matches no linear layer, a bad rank or alpha, or a model that already has adapters.
 *
 * @example
 * const adapters = addLora(model, { rank: 8, alpha: 16, targets: ['c_attn', 'c_proj'] });
 * const params = model.trainableParams; // 2 per adapter
 */
export function addLora(model: PretrainedModel, settings: LoraSettings): LoraAdapter[] {
  if (loraAdapters(model).length > 0) throw new ClipwiseModelError('addLora: the model already has LoRA adapters; build a fresh model (or merge them with mergeLora first)');
  try {
    checkLoraSize(settings.rank, settings.alpha, 'LoRA');
  } catch (e) {
    throw new ClipwiseModelError((e as Error).message);
  }
  const targets = settings.targets ?? defaultLoraTargets(model);
  if (targets.length === 0) throw new ClipwiseModelError('LoRA targets is empty: name at least one linear layer (e.g. c_attn)');
  const linears = baseLinears(model);
  const missing = targets.filter((t) => !linears.some((l) => matchesLoraTarget(l.name, t)));
  if (missing.length > 0) {
    const kinds = [...new Set(linears.map((l) => l.name.split('.').pop()!))];
    throw new ClipwiseModelError(`LoRA target${missing.length > 1 ? 's' : ''} ${missing.map((t) => `'${t}'`).join(', ')} match${missing.length > 1 ? '' : 'es'} no linear layer of this model; its linear layers end in ${kinds.join(', ')}`);
  }
  const chosen = linears.filter((l) => targets.some((t) => matchesLoraTarget(l.name, t)));
  const adapters: LoraAdapter[] = [];
  try {
    chosen.forEach((base, k) => {
      const lora = new LoraAdapter(base, {
        rank: settings.rank, ...(settings.alpha !== undefined ? { alpha: settings.alpha } : {}), rsLora: settings.rsLora ?? false,
        prefix: `${PEFT_PREFIX}${base.name}`, ...(settings.seed !== undefined ? { seed: settings.seed * 1000 + k } : {}),
      });
      adapters.push(lora);
      base.setAdapter(lora);
    });
  } catch (e) {
    for (const a of adapters) a.detach();
    throw e instanceof ClipwiseConfigError ? new ClipwiseModelError(e.message) : e;
  }
  setTrainable(model.params, false);
  return adapters;
}

/** Detaches and frees every LoRA adapter of the model (the base weights are left as they are). */
export function removeLora(model: PretrainedModel): void {
  for (const a of loraAdapters(model)) a.detach();
}
