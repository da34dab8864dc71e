import type { ParamSpec } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';

/**
 * Modules trained in full beside LoRA adapters: peft's `modules_to_save` (e.g. a ViT's new
 * `classifier`). Their parameters are the model's own, unfrozen; peft saves them in the adapter file
 * under `base_model.model.<module>.<param>`.
 */
export interface ModulesToSave {
  /** The names as given (peft's `modules_to_save` list, what `adapter_config.json` holds). */
  readonly names: readonly string[];
  /** The matched modules' full names, in forward order. */
  readonly modules: readonly string[];
  /** Every parameter of those modules (weight and bias of a linear layer), in forward order. */
  readonly params: readonly ParamSpec[];
}

/**
 * Whether `module` is one of `name`'s modules to save: peft's `_set_trainable` takes every module
 * whose name ends with the given one, as a plain string suffix (`key.endswith(target_key)`,
 * huggingface/peft src/peft/utils/other.py:1088 at 5d602fd, peft 0.20.1.dev0), so `classifier`
 * takes `classifier` and `dense` every `...dense` layer.
 */
export function matchesModuleToSave(module: string, name: string): boolean {
  return module.endsWith(name);
}

/**
 * Whether a module lies in (or is) one of the modules to save. peft never puts an adapter there:
 * `check_target_module_exists` excludes keys matching `(^|.*\.)m($|\..*)` for each name m
 * (src/peft/tuners/tuners_utils.py:2319 at 5d602fd). Names are taken literally here (peft's
 * regex leaves them unescaped, where a `.` would match any character).
 */
export function insideModulesToSave(module: string, names: readonly string[]): boolean {
  return names.some((m) => new RegExp(`(^|.*\\.)${m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|\\..*)`).test(module));
}

/** The module names of a model: every dotted prefix of a parameter's hub name (`vit.embeddings` holds `cls_token`). */
function moduleNames(model: PretrainedModel): string[] {
  const names = new Set<string>();
  for (const p of model.params) {
    const parts = p.name.split('.');
    for (let k = 1; k < parts.length; k++) names.add(parts.slice(0, k).join('.'));
  }
  return [...names];
}

/** Parameters a layer uses but another owns (GPT-2's LM head borrows the token embedding). */
function tiedParams(model: PretrainedModel): Set<ParamSpec> {
  return new Set(model.layers.flatMap((l) => {
    const own = new Set(l.ownParams());
    return Object.values(l.paramsByRole).filter((p) => !own.has(p));
  }));
}

/**
 * The modules `names` selects and their parameters (see {@link matchesModuleToSave}). Throws naming a
 * name that matches no module of the model, a module inside another selected one (peft would wrap a
 * wrapper's copy), or one holding a tied weight (GPT-2's `wte` is also its LM head, which peft keeps
 * apart from a saved copy of the embedding).
 */
export function resolveModulesToSave(model: PretrainedModel, names: readonly string[]): ModulesToSave {
  if (names.length === 0 || names.some((n) => n.trim() === '')) {
    throw new ClipwiseModelError(`modules_to_save ${JSON.stringify(names)}: expected a non-empty list of module names (e.g. ["classifier"])`);
  }
  const all = moduleNames(model);
  const missing = names.filter((n) => !all.some((m) => matchesModuleToSave(m, n)));
  if (missing.length > 0) {
    const leaves = [...new Set(model.params.map((p) => p.name.replace(/\.[^.]+$/, '').split('.').pop()!))].join(', ');
    throw new ClipwiseModelError(
      `modules_to_save ${missing.map((n) => `'${n}'`).join(', ')} match${missing.length > 1 ? '' : 'es'} no module of this model (a module matches when its name ends with the given one); ` +
        `its modules end in ${leaves}${missing.includes('lm_head') ? " (GPT-2's lm_head is tied to transformer.wte and has no weights of its own)" : ''}`,
    );
  }
  const chosen = all.filter((m) => names.some((n) => matchesModuleToSave(m, n)));
  const nested = chosen.find((m) => chosen.some((outer) => outer !== m && m.startsWith(`${outer}.`)));
  if (nested) {
    const outer = chosen.find((o) => o !== nested && nested.startsWith(`${o}.`))!;
    throw new ClipwiseModelError(`modules_to_save ${JSON.stringify(names)} selects both ${outer} and ${nested}, which lies inside it; name the modules so that none contains another`);
  }
  const inside = (p: ParamSpec) => chosen.some((m) => p.name.startsWith(`${m}.`));
  const params = model.params.filter(inside);
  const tied = tiedParams(model);
  const shared = params.find((p) => tied.has(p));
  if (shared) {
    throw new ClipwiseModelError(
      `modules_to_save: ${shared.name} is tied to another layer (GPT-2's token embedding is also its LM head); peft trains a separate copy of a saved module, which would untie them. Train it without LoRA instead (selectTrainable)`,
    );
  }
  return { names: [...names], modules: chosen.sort((a, b) => firstOrder(params, a) - firstOrder(params, b)), params };
}

function firstOrder(params: readonly ParamSpec[], module: string): number {
  return Math.min(...params.filter((p) => p.name.startsWith(`${module}.`)).map((p) => p.order));
}

// Which modules a model trains beside its adapters, set by addLora and cleared with the adapters
// (removeLora, mergeLora): the model classes have no slot for it, and it is saved with the adapter.
const saved = new WeakMap<PretrainedModel, ModulesToSave>();

/** Records (or with null clears) the modules a model trains beside its LoRA adapters. */
export function setModulesToSave(model: PretrainedModel, modules: ModulesToSave | null): void {
  if (modules === null) saved.delete(model);
  else saved.set(model, modules);
}

/**
 * The modules the model trains in full beside its LoRA adapters (`addLora`'s `modulesToSave`, or an
 * adapter file's `modules_to_save`), or null when there are none.
 *
 * @example
 * addLora(vit, { rank: 4, modulesToSave: ['classifier'] });
 * loraModulesToSave(vit)?.params.map((p) => p.name); // ['classifier.weight', 'classifier.bias']
 */
export function loraModulesToSave(model: PretrainedModel): ModulesToSave | null {
  return saved.get(model) ?? null;
}
