import path from 'node:path';
import type { ParamSpec } from '@clipwise/core';
import {
  ALL_LINEAR, ClipwiseModelError, addLora, defaultLoraTargets, loadAdapter, parseTrainableSpec, selectTrainable, type PretrainedModel,
} from '@clipwise/models/node';
import { UsageError } from '../usage-error';
import type { TrainConfig } from './train-config';

/** What a run trains: its mode in words, the trainable parameters and their size beside the whole model's. */
export interface TrainedSubset {
  /** `all`, `bias`, `last:2`, `transformer.h.1.` or `lora r=8 α=16 on c_attn,c_proj`. */
  readonly mode: string;
  readonly params: ParamSpec[];
  /** Scalars that train. */
  readonly trainedScalars: number;
  /** Scalars of the model itself (frozen or not) plus the adapters'. */
  readonly totalScalars: number;
}

const scalars = (ps: readonly ParamSpec[]) => ps.reduce((n, p) => n + p.size, 0);

/**
 * Applies --trainable, or --lora-rank/--lora-alpha/--lora-targets, to a built or loaded model: freezes
 * what does not train, or adds the adapters (a resume reads them from the checkpoint's `adapterDir`).
 * A bad spec or target is a UsageError naming the flag.
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
    const adapters = adapterDir
      ? await loadAdapter(model, adapterDir)
      : addLora(model, { rank, ...(config['lora-alpha'] !== undefined ? { alpha: config['lora-alpha'] } : {}), targets, seed: config.seed });
    const params = model.trainableParams;
    const alpha = adapters[0]!.alpha;
    return { mode: `lora r=${rank} α=${alpha} on ${typeof targets === 'string' ? targets : targets.join(',')}`, params, trainedScalars: scalars(params), totalScalars: scalars(model.params) + scalars(params) };
  } catch (e) {
    if (!(e instanceof ClipwiseModelError)) throw e;
    if (adapterDir) throw new UsageError(`--resume: the adapter in ${path.dirname(adapterDir)} does not load: ${e.message}`);
    // the models' messages start with "trainable '<spec>'" or "LoRA ...": name the flag
    throw new UsageError(rank === undefined ? `--${e.message}` : `--lora-rank/--lora-targets: ${e.message}`);
  }
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
