import path from 'node:path';
import type { ParamSpec } from '@clipwise/core';
import {
  ALL_LINEAR, ClipwiseModelError, addLora, defaultLoraTargets, loadAdapter, parseTrainableSpec, selectTrainable, type PretrainedModel,
} from '@clipwise/models/node';
import { UsageError } from '../usage-error';
import type { TrainConfig } from './train-config';

/** What a run trains: its mode in words, the trainable parameters and their size beside the whole model's. */
export interface TrainedSubset {
  /** `all`, `bias`, `last:2`, `transformer.h.1.`, `lora r=8 α=16 on c_attn,c_proj` or `lora r=4 α=8 on query,value + classifier`. */
  readonly mode: string;
  readonly params: ParamSpec[];
  /** Scalars that train. */
  readonly trainedScalars: number;
  /** Scalars of the model itself (frozen or not) plus the adapters'. */
  readonly totalScalars: number;
}

const scalars = (ps: readonly ParamSpec[]) => ps.reduce((n, p) => n + p.size, 0);

/**
 * Applies --trainable, or --lora-rank/--lora-alpha/--lora-targets/--lora-modules-to-save, to a built
 * or loaded model: freezes what does not train, or adds the adapters and unfreezes the modules to
 * save (a resume reads both from the checkpoint's `adapterDir`). A bad spec, target or module is a
 * UsageError naming the flag.
 */
export async function applyTrainable(model: PretrainedModel, config: TrainConfig, adapterDir?: string): Promise<TrainedSubset> {
  const rank = config['lora-rank'];
  try {
    if (rank === undefined) {
      const spec = config.trainable ?? 'all';
      const params = selectTrainable(model, parseTrainableSpec(spec));
      return { mode: spec, params, trainedScalars: scalars(params), totalScalars: scalars(model.params) };
    }
    const targets = loraTargetsOf(config['lora-targets']) ?? defaultLoraTargets(model);
    const modulesToSave = loraModulesToSaveOf(config['lora-modules-to-save']);
    const adapters = adapterDir
      ? await loadAdapter(model, adapterDir)
      : addLora(model, { rank, ...(config['lora-alpha'] !== undefined ? { alpha: config['lora-alpha'] } : {}), targets, seed: config.seed, ...(modulesToSave ? { modulesToSave } : {}) });
    const params = model.trainableParams;
    const alpha = adapters[0]!.alpha;
    const adapterScalars = scalars(adapters.flatMap((a) => [a.a.weight, a.b.weight]));
    const mode = `lora r=${rank} α=${alpha} on ${typeof targets === 'string' ? targets : targets.join(',')}${modulesToSave ? ` + ${modulesToSave.join(',')}` : ''}`;
    return { mode, params, trainedScalars: scalars(params), totalScalars: scalars(model.params) + adapterScalars };
  } catch (e) {
    if (!(e instanceof ClipwiseModelError)) throw e;
    if (adapterDir) throw new UsageError(`--resume: the adapter in ${path.dirname(adapterDir)} does not load: ${e.message}`);
    // the models' messages start with "trainable '<spec>'", "LoRA ..." or "modules_to_save ...": name the flag
    if (rank === undefined) throw new UsageError(`--${e.message}`);
    throw new UsageError(e.message.startsWith('modules_to_save') ? `--lora-modules-to-save: ${e.message}` : `--lora-rank/--lora-targets: ${e.message}`);
  }
}

/** `--lora-modules-to-save`: a comma-separated list of module names (peft's modules_to_save). */
export function loraModulesToSaveOf(flag: string | undefined): string[] | undefined {
  if (flag === undefined) return undefined;
  const names = flag.split(',').map((t) => t.trim());
  if (names.some((t) => t === '')) throw new UsageError(`--lora-modules-to-save '${flag}': empty name in the list`);
  return names;
}

/** `--lora-targets`: a comma-separated list of names, `all-linear`, or `re:PATTERN` (a regex the whole module name must match). */
export function loraTargetsOf(flag: string | undefined): string[] | string | undefined {
  if (flag === undefined) return undefined;
  if (flag === ALL_LINEAR) return flag;
  if (flag.startsWith('re:')) {
    if (flag.length === 3) throw new UsageError(`--lora-targets 're:': the regular expression after re: is empty`);
    return flag.slice(3);
  }
  const names = flag.split(',').map((t) => t.trim());
  if (names.some((t) => t === '')) throw new UsageError(`--lora-targets '${flag}': empty name in the list`);
  return names;
}
