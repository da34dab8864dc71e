import type { BackendName } from '@clipwise/core';
import { closestName, parseFlagValue } from '../flags/flag-spec';
import { UsageError } from '../usage-error';
import { readConfigFile } from './config-file';
import { TRAIN_FLAGS } from './train-flags';

/** What a run releases about training besides the model (see `--diagnostics`). */
export type DiagnosticsMode = 'private' | 'raw' | 'off';

/** A fully resolved `clipwise train` configuration (defaults applied). Keys are the flag names (see `TRAIN_FLAGS`). */
export interface TrainConfig {
  model: string;
  /** Fields merged over a preset's config (e.g. {"n_embd": 16, "n_layer": 1}). */
  'model-config'?: Record<string, number>;
  /** Which of the model's parameters train (`all`, `bias`, `last:K`, prefixes); `none` of them with LoRA. */
  trainable: string;
  'lora-rank'?: number;
  'lora-alpha'?: number;
  /** Comma-separated peft target_modules. */
  'lora-targets'?: string;
  /** Comma-separated peft modules_to_save: modules trained in full beside the adapters. */
  'lora-modules-to-save'?: string;
  'merge-adapter': boolean;
  /** ViT from a folder: a fresh classifier head even where the class counts agree (a transfer to other classes). */
  'new-head': boolean;
  /** ViT: how q, k, v are held (`VitOptions.qkv`). */
  'vit-qkv': 'separate' | 'packed';
  task?: 'text' | 'e2e' | 'images';
  data: string;
  'eval-data'?: string;
  limit?: number;
  'eval-limit'?: number;
  'gen-limit': number;
  'gen-tokens': number;
  /** E2E generations: block repeated n-grams of this many tokens (0: off). */
  'gen-no-repeat-ngram'?: number;
  /** E2E generations: logit bonus for copying the MR's capitalised values (0: off). */
  'gen-copy-bias'?: number;
  tokenizer?: 'gpt2' | 'byte' | 'word' | 'gpt2-subset';
  'seq-len': number;
  epsilon?: number;
  delta: number;
  'noise-multiplier'?: number;
  epochs?: number;
  steps?: number;
  'batch-size': number;
  'max-physical-batch': number;
  grouping: string;
  clipping: 'abadi' | 'automatic';
  'clip-norm': number;
  /** Per-group thresholds: fixed (C/sqrt(M) each) or adaptive quantiles (Andrew et al. 2021, per group). */
  thresholds?: 'fixed' | 'adaptive';
  /** Adaptive: target unclipped fraction γ of each group (default 0.5). */
  'target-quantile'?: number;
  /** Adaptive: learning rate η of the geometric update (default 0.2). */
  'threshold-lr'?: number;
  /** σ_b, noise std on each group's released count (adaptive thresholds, or private diagnostics' clip counts). */
  'count-noise'?: number;
  /**
   * Training diagnostics: 'private' releases per-group clip fractions as noisy counts inside ε (the
   * default of private runs); 'raw' logs exact, NOT PRIVATE statistics to log.jsonl only; 'off' none.
   * Checkpoints written before the flag existed resume as 'raw' (what they ran).
   */
  diagnostics?: DiagnosticsMode;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  schedule: 'constant' | 'cosine' | 'warmup-cosine';
  warmup: number;
  'weight-decay': number;
  accountant: 'rdp' | 'prv';
  sampling: 'poisson' | 'shuffle';
  backend: BackendName;
  /** wasm backend in Node: XNNPACK threads; unset: CLIPWISE_WASM_THREADS, else every core. */
  threads?: number;
  /** webgpu; unset: CLIPWISE_MATMUL_TUNING, else off. */
  'matmul-tuning'?: 'on' | 'off';
  seed: number;
  'no-dp': boolean;
  out: string;
  resume: boolean;
  'eval-every'?: number;
  'halt-after'?: number;
}

/**
 * Fields that fix the privacy analysis or what it is computed over: a resume must not change them,
 * or the saved ledger would account for a different mechanism than the one that ran.
 */
export const PRIVACY_FIELDS = [
  'model', 'model-config', 'vit-qkv', 'trainable', 'lora-rank', 'lora-alpha', 'lora-targets', 'lora-modules-to-save', 'task', 'data', 'limit', 'tokenizer', 'seq-len', 'epsilon', 'delta', 'noise-multiplier',
  'epochs', 'steps', 'batch-size', 'grouping', 'clipping', 'clip-norm', 'accountant', 'sampling', 'seed', 'no-dp',
  'thresholds', 'target-quantile', 'threshold-lr', 'count-noise', 'diagnostics',
] as const;

const BY_NAME = new Map(TRAIN_FLAGS.map((f) => [f.name, f]));

/** The defaults that do not depend on other flags (those are applied in `resolveConfig`). */
const DEFAULTS = Object.fromEntries(TRAIN_FLAGS.filter((f) => f.default !== undefined).map((f) => [f.name, f.default])) as Partial<TrainConfig>;

/** A `model-config` mapping from a config file: config fields to numbers. */
function fileModelConfig(v: unknown, file: string): Record<string, number> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new UsageError(`--config ${file}: "model-config" must be a mapping of config fields to numbers, e.g. {"n_embd": 16, "n_layer": 1}`);
  }
  const bad = Object.entries(v).find(([, x]) => typeof x !== 'number');
  if (bad) throw new UsageError(`--config ${file}: "model-config.${bad[0]}" must be a number, got ${JSON.stringify(bad[1])}`);
  return v as Record<string, number>;
}

/** One command-line value, checked against its declaration. */
function flagValue(name: string, v: unknown): unknown {
  const spec = BY_NAME.get(name);
  if (spec === undefined) throw new UsageError(`unknown flag --${name}; see clipwise train --help`);
  const x = parseFlagValue(spec, v);
  if (name === 'model-config') {
    const bad = Object.entries(x as object).find(([, f]) => typeof f !== 'number');
    if (bad) throw new UsageError(`--model-config field "${bad[0]}" must be a number, got ${JSON.stringify(bad[1])}`);
  }
  return x;
}

/**
 * The flags explicitly chosen by the user: the config file's entries, overridden by command-line
 * flags (keyed by flag name, `config` naming the file). Every value is checked against
 * `TRAIN_FLAGS`; unknown keys are refused naming the valid ones.
 */
export function explicitSettings(flags: Record<string, unknown>): Partial<TrainConfig> {
  const out: Record<string, unknown> = {};
  const file = typeof flags.config === 'string' ? flags.config : undefined;
  if (file) {
    for (const [k, v] of Object.entries(readConfigFile(file))) {
      const spec = BY_NAME.get(k);
      if (spec === undefined) {
        const near = closestName(k, [...BY_NAME.keys()]);
        throw new UsageError(`--config ${file}: unknown key '${k}'${near ? ` (did you mean ${near}?)` : ''}; valid keys are the flag names: ${[...BY_NAME.keys()].join(', ')}`);
      }
      out[k] = k === 'model-config' ? fileModelConfig(v, file) : parseFlagValue(spec, v, ` (in ${file})`);
    }
  }
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || v === undefined) continue;
    out[k] = flagValue(k, v);
  }
  return out as Partial<TrainConfig>;
}

/** Applies the defaults and checks combinations that single flags cannot. */
export function resolveConfig(given: Partial<TrainConfig>): TrainConfig {
  if (!given.data) throw new UsageError('--data PATH is required (E2E .csv, .txt, .jsonl, an image folder, a .tar.gz archive or a CIFAR binary folder)');
  if (given.epochs !== undefined && given.steps !== undefined) throw new UsageError('give --epochs or --steps, not both');
  if (given['no-dp'] && (given.epsilon !== undefined || given['noise-multiplier'] !== undefined)) {
    throw new UsageError('--no-dp trains without privacy: drop --epsilon / --noise-multiplier, or drop --no-dp');
  }
  const model = given.model ?? (given.task === 'images' ? 'vit-tiny' : 'gpt2-tiny');
  const config = { ...DEFAULTS, ...given, model } as TrainConfig;
  if (!config['no-dp'] && config.epsilon === undefined && config['noise-multiplier'] === undefined) config.epsilon = 8;
  if (config.epochs === undefined && config.steps === undefined) config.epochs = 1;
  if (config['no-dp'] && config.diagnostics === 'private') {
    throw new UsageError('--diagnostics private needs a private run (--no-dp releases everything without noise); use --diagnostics raw or off, or drop --no-dp');
  }
  config.diagnostics ??= config['no-dp'] ? 'raw' : 'private';
  checkThresholds(config);
  checkLora(config);
  return config;
}

/** The LoRA flags go with --lora-rank, which trains the adapters (and --lora-modules-to-save) alone. */
function checkLora(config: TrainConfig): void {
  if (config['lora-rank'] === undefined) {
    const stray = (['lora-alpha', 'lora-targets', 'lora-modules-to-save'] as const).find((k) => config[k] !== undefined) ?? (config['merge-adapter'] ? 'merge-adapter' : undefined);
    if (stray) throw new UsageError(`--${stray} applies to LoRA only; add --lora-rank R or drop --${stray}`);
    return;
  }
  if (config['vit-qkv'] === 'packed') {
    throw new UsageError("--vit-qkv packed cannot be combined with --lora-rank: peft's adapter files name Hugging Face's query/key/value layers, which a packed ViT does not have; use --vit-qkv separate for LoRA");
  }
  if (config.trainable !== 'all' && config.trainable !== undefined) {
    throw new UsageError(
      `--trainable ${config.trainable} cannot be combined with --lora-rank: with LoRA only the adapters train (the base model is frozen); ` +
        'train whole modules beside them with --lora-modules-to-save NAME,... (e.g. classifier), or drop one of them',
    );
  }
}

/** The adaptive-threshold flags apply only to private runs with --thresholds adaptive and abadi clipping. */
function checkThresholds(config: TrainConfig): void {
  // --count-noise also sets the clip counts of private diagnostics
  const adaptiveOnly = (['target-quantile', 'threshold-lr', ...(config.diagnostics === 'private' ? [] : ['count-noise'] as const)] as const).filter((k) => config[k] !== undefined);
  if (config.thresholds !== 'adaptive') {
    if (adaptiveOnly.length) {
      throw new UsageError(
        `--${adaptiveOnly[0]} applies to --thresholds adaptive${adaptiveOnly[0] === 'count-noise' ? ' or --diagnostics private' : ''} only; add --thresholds adaptive or drop it`,
      );
    }
    return;
  }
  if (config['no-dp']) throw new UsageError('--thresholds adaptive needs a private run (--no-dp does not clip); drop one of them');
  if (config.clipping !== 'abadi') {
    throw new UsageError(`--thresholds adaptive needs --clipping abadi (got ${config.clipping}: automatic clipping has no quantile to track)`);
  }
  config['target-quantile'] ??= 0.5;
  config['threshold-lr'] ??= 0.2;
}

/** Names the first privacy field on which a resumed run differs from its checkpoint; null if none. */
export function privacyConflict(saved: TrainConfig, given: Partial<TrainConfig>): string | null {
  for (const field of PRIVACY_FIELDS) {
    if (!(field in given)) continue;
    if (JSON.stringify(given[field]) !== JSON.stringify(saved[field])) {
      return (
        `--resume: --${field} differs from the checkpoint (checkpoint ${JSON.stringify(saved[field] ?? null)}, now ${JSON.stringify(given[field])}); ` +
        `a resumed run must keep its privacy settings. Pass the same value, or start a new run with another --out`
      );
    }
  }
  return null;
}
