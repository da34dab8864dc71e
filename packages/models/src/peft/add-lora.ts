import { ClipwiseConfigError, Linear, LoraAdapter, checkLoraSize, setTrainable } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { modelTypeOf, type PretrainedModel } from '../pretrained/pretrained-model.js';
import { VitModel } from '../vit/vit-model.js';
import { insideModulesToSave, resolveModulesToSave, setModulesToSave, type ModulesToSave } from './modules-to-save.js';

/** Where LoRA goes and how large it is; the fields of peft's `LoraConfig` that matter here. */
export interface LoraSettings {
  /** Rank r (positive integer). */
  readonly rank: number;
  /** α; the update is scaled by α/r. Default r. */
  readonly alpha?: number;
  /**
   * The layers to adapt, as peft's `target_modules`: a list of module names (a linear layer is
   * targeted when its name equals one or ends with `.name`: GPT-2 c_attn, c_proj, c_fc; ViT query,
   * key, value, dense), or one string: `'all-linear'` (every linear layer but the output layer) or
   * a regular expression the whole module name must match (peft's `re.fullmatch`), e.g.
   * `'transformer\\.h\\.[01]\\.attn\\.c_attn'`. Default: GPT-2 ['c_attn'], ViT ['query', 'value']
   * (peft's defaults for these models).
   */
  readonly targets?: readonly string[] | string;
  /** α/sqrt(r) instead of α/r (peft's `use_rslora`). */
  readonly rsLora?: boolean;
  /** Seed of the A matrices' initialisation (B starts at zero). */
  readonly seed?: number;
  /**
   * Modules trained in full beside the adapters, as peft's `modules_to_save`: every module whose
   * name ends with one of these (`['classifier']`: a ViT's head, all its parameters). They stay
   * trainable, get no adapter, and are saved in the adapter file. Default none.
   */
  readonly modulesToSave?: readonly string[];
}

/** The name prefix of LoRA tensors in peft's files: `base_model.model.<module>.lora_A.weight`. */
export const PEFT_PREFIX = 'base_model.model.';

/** peft's default target modules for the two families (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export function defaultLoraTargets(model: PretrainedModel): string[] {
  return modelTypeOf(model) === 'gpt2' ? ['c_attn'] : ['query', 'value'];
}

/**
 * The model's own linear layers that may carry an adapter (GPT-2's head is tied to the embedding: not
 * one of them), less those inside modules to save (peft never adapts those).
 */
function baseLinears(model: PretrainedModel, modulesToSave: readonly string[] = []): Linear[] {
  const own = new Set(model.params);
  return model.layers.filter((l): l is Linear => l instanceof Linear && own.has(l.weight) && l.ownParams().includes(l.weight) && !insideModulesToSave(l.name, modulesToSave));
}

/** Whether a module name is targeted, as peft's `check_target_module_exists` decides for a list. */
export function matchesLoraTarget(module: string, target: string): boolean {
  return module === target || module.endsWith(`.${target}`);
}

/** peft's `INCLUDE_LINEAR_LAYERS_SHORTHAND`: every linear layer but the model's output layer. */
export const ALL_LINEAR = 'all-linear';
/** Output layers that `all-linear` leaves out, as peft does (GPT-2's head is tied and never a target). */
const OUTPUT_LAYERS = ['classifier', 'lm_head'];

/**
 * The linear layers `targets` names (see {@link LoraSettings.targets}) less those inside the modules
 * to save `saved` (peft adapts none of those, and says nothing about a target that only matches
 * there); throws naming a listed target that matches no linear layer, a pattern that matches
 * none, or targets that all lie inside modules to save.
 */
function targetedLinears(linears: Linear[], targets: readonly string[] | string, saved: readonly string[] = []): Linear[] {
  const kinds = () => [...new Set(linears.map((l) => l.name.split('.').pop()!))].join(', ');
  let chosen: Linear[];
  if (typeof targets === 'string') {
    let match: (name: string) => boolean;
    if (targets === ALL_LINEAR) match = (name) => !OUTPUT_LAYERS.includes(name.split('.').pop()!);
    else {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${targets})$`);
      } catch (e) {
        throw new ClipwiseModelError(`LoRA target_modules '${targets}' is not a valid regular expression (${(e as Error).message})`);
      }
      match = (name) => re.test(name);
    }
    chosen = linears.filter((l) => match(l.name));
    if (chosen.length === 0) throw new ClipwiseModelError(`LoRA target_modules '${targets}' matches no linear layer of this model; its linear layers end in ${kinds()}`);
  } else {
    if (targets.length === 0) throw new ClipwiseModelError('LoRA targets is empty: name at least one linear layer (e.g. c_attn)');
    const missing = targets.filter((t) => !linears.some((l) => matchesLoraTarget(l.name, t)));
    if (missing.length > 0) {
      throw new ClipwiseModelError(`LoRA target${missing.length > 1 ? 's' : ''} ${missing.map((t) => `'${t}'`).join(', ')} match${missing.length > 1 ? '' : 'es'} no linear layer of this model; its linear layers end in ${kinds()}`);
    }
    chosen = linears.filter((l) => targets.some((t) => matchesLoraTarget(l.name, t)));
  }
  const adapted = chosen.filter((l) => !insideModulesToSave(l.name, saved));
  if (adapted.length === 0) {
    throw new ClipwiseModelError(`LoRA: every layer target_modules ${JSON.stringify(targets)} matches lies inside modules_to_save ${JSON.stringify(saved)}, which train in full and get no adapter; target other layers`);
  }
  return adapted;
}

/**
 * The `target_modules` list that names exactly the adapted layers: their last name parts when every
 * layer of those kinds is adapted (peft's usual form), else their full names (a regex or a subset).
 */
export function adaptedTargetModules(model: PretrainedModel, adapters: readonly LoraAdapter[], modulesToSave: readonly string[] = []): string[] {
  const adapted = new Set(adapters.map((a) => a.base.name));
  const kinds = [...new Set(adapters.map((a) => a.base.name.split('.').pop()!))].sort();
  const byKinds = baseLinears(model, modulesToSave).filter((l) => kinds.some((k) => matchesLoraTarget(l.name, k)));
  return byKinds.length === adapted.size && byKinds.every((l) => adapted.has(l.name)) ? kinds : [...adapted].sort();
}

/** The LoRA adapters attached to a model's linear layers, in forward order. */
export function loraAdapters(model: PretrainedModel): LoraAdapter[] {
  return model.layers.flatMap((l) => (l instanceof Linear && l.adapter instanceof LoraAdapter ? [l.adapter] : []));
}

/**
 * Adds LoRA (Hu et al. 2021) to the model's linear layers named by `settings.targets` and freezes
 * every parameter of the model itself, as peft's `get_peft_model` does: afterwards
 * `model.trainableParams` lists the A and B matrices only (unfreeze more with `selectTrainable`),
 * and the parameters of `settings.modulesToSave` (peft's `modules_to_save`), which train in full
 * and get no adapter. The adapters' parameters carry peft's names
 * (`base_model.model.transformer.h.0.attn.c_attn.lora_A.weight`, A [r, in], B [out, r]), so norms,
 * groupings and saved files speak peft's language. Throws naming a target that matches no linear
 * layer, a module to save that matches no module, a bad rank or alpha, or a model that already has adapters.
 *
 * @example
 * const adapters = addLora(model, { rank: 8, alpha: 16, targets: ['c_attn', 'c_proj'] });
 * const params = model.trainableParams; // 2 per adapter
 * addLora(vit, { rank: 4, targets: ['query', 'value'], modulesToSave: ['classifier'] }); // + classifier.weight, .bias
 */
export function addLora(model: PretrainedModel, settings: LoraSettings): LoraAdapter[] {
  if (model instanceof VitModel && model.qkvLayout === 'packed') {
    // peft's files name Hugging Face's modules: an adapter on a packed q|k|v could not be saved or loaded
    throw new ClipwiseModelError("addLora: this ViT holds its q|k|v packed (qkv: 'packed'), which peft's adapters for Hugging Face's ViT cannot name; build it with qkv 'separate' for LoRA");
  }
  if (loraAdapters(model).length > 0) throw new ClipwiseModelError('addLora: the model already has LoRA adapters; build a fresh model (or merge them with mergeLora first)');
  try {
    checkLoraSize(settings.rank, settings.alpha, 'LoRA');
  } catch (e) {
    throw new ClipwiseModelError((e as Error).message);
  }
  const toSave: ModulesToSave | null = settings.modulesToSave ? resolveModulesToSave(model, settings.modulesToSave) : null;
  const chosen = targetedLinears(baseLinears(model), settings.targets ?? defaultLoraTargets(model), toSave?.names);
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
  if (toSave) setTrainable(toSave.params, true);
  setModulesToSave(model, toSave);
  return adapters;
}

/**
 * Detaches and frees every LoRA adapter of the model and forgets its modules to save (the base
 * weights, those modules' included, are left as they are).
 */
export function removeLora(model: PretrainedModel): void {
  for (const a of loraAdapters(model)) a.detach();
  setModulesToSave(model, null);
}
