import { BACKEND_NAMES, type BackendName } from '@clipwise/core';
import { UsageError } from '../usage-error';
import { readConfigFile } from './config-file';

/** A fully resolved `clipwise train` configuration (defaults applied). Keys are the flag names. */
export interface TrainConfig {
  model: string;
  /** Only from --config: fields merged over a preset's config (e.g. {"n_embd": 16, "n_layer": 1}). */
  'model-config'?: Record<string, number>;
  task?: 'text' | 'e2e' | 'images';
  data: string;
  'eval-data'?: string;
  limit?: number;
  'eval-limit'?: number;
  'gen-limit': number;
  'gen-tokens': number;
  tokenizer?: 'gpt2' | 'byte' | 'word';
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
  /** Adaptive: σ_b, noise std on each group's count (default sqrt(M)·B/20). */
  'count-noise'?: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  schedule: 'constant' | 'cosine' | 'warmup-cosine';
  warmup: number;
  'weight-decay': number;
  accountant: 'rdp' | 'prv';
  sampling: 'poisson' | 'shuffle';
  backend: BackendName;
  seed: number;
  'no-dp': boolean;
  out: string;
  resume: boolean;
  'eval-every'?: number;
  'halt-after'?: number;
}

type Kind = 'string' | 'int' | 'posint' | 'pos' | 'prob' | 'nonneg' | 'bool' | readonly string[];
const FLAGS: Record<string, Kind> = {
  model: 'string',
  task: ['text', 'e2e', 'images'],
  data: 'string',
  'eval-data': 'string',
  limit: 'posint',
  'eval-limit': 'posint',
  'gen-limit': 'int',
  'gen-tokens': 'posint',
  tokenizer: ['gpt2', 'byte', 'word'],
  'seq-len': 'posint',
  epsilon: 'pos',
  delta: 'prob',
  'noise-multiplier': 'pos',
  epochs: 'posint',
  steps: 'posint',
  'batch-size': 'posint',
  'max-physical-batch': 'posint',
  grouping: 'string',
  clipping: ['abadi', 'automatic'],
  'clip-norm': 'pos',
  thresholds: ['fixed', 'adaptive'],
  'target-quantile': 'prob',
  'threshold-lr': 'pos',
  'count-noise': 'pos',
  optimizer: ['sgd', 'adam', 'adamw'],
  lr: 'pos',
  schedule: ['constant', 'cosine', 'warmup-cosine'],
  warmup: 'int',
  'weight-decay': 'nonneg',
  accountant: ['rdp', 'prv'],
  sampling: ['poisson', 'shuffle'],
  backend: [...BACKEND_NAMES],
  seed: 'int',
  'no-dp': 'bool',
  out: 'string',
  resume: 'bool',
  'eval-every': 'posint',
  'halt-after': 'posint',
};

/**
 * Fields that fix the privacy analysis or what it is computed over: a resume must not change them,
 * or the saved ledger would account for a different mechanism than the one that ran.
 */
export const PRIVACY_FIELDS = [
  'model', 'model-config', 'task', 'data', 'limit', 'tokenizer', 'seq-len', 'epsilon', 'delta', 'noise-multiplier',
  'epochs', 'steps', 'batch-size', 'grouping', 'clipping', 'clip-norm', 'accountant', 'sampling', 'seed', 'no-dp',
  'thresholds', 'target-quantile', 'threshold-lr', 'count-noise',
] as const;

const DEFAULTS = {
  'gen-limit': 20,
  'gen-tokens': 40,
  'seq-len': 64,
  delta: 1e-5,
  'batch-size': 32,
  'max-physical-batch': 32,
  grouping: 'layer-wise',
  clipping: 'abadi',
  'clip-norm': 1,
  thresholds: 'fixed',
  optimizer: 'adamw',
  lr: 1e-3,
  schedule: 'constant',
  warmup: 0,
  'weight-decay': 0,
  accountant: 'rdp',
  sampling: 'poisson',
  backend: 'auto',
  seed: 0,
  'no-dp': false,
  out: 'clipwise-run',
  resume: false,
} satisfies Partial<TrainConfig>;

/** `parseArgs` options for every flag of `clipwise train`. */
export function trainParseOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const opts: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  for (const [name, kind] of Object.entries(FLAGS)) opts[name] = { type: kind === 'bool' ? 'boolean' : 'string' };
  return opts;
}

function parseValue(name: string, raw: unknown, source: string): unknown {
  const kind = FLAGS[name]!;
  const shown = typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
  const bad = (what: string) => new UsageError(`--${name} must be ${what}, got ${shown}${source}`);
  if (kind === 'bool') {
    if (typeof raw !== 'boolean') throw bad('true or false');
    return raw;
  }
  if (Array.isArray(kind)) {
    if (typeof raw !== 'string' || !kind.includes(raw)) throw bad(`one of ${kind.join(', ')}`);
    return raw;
  }
  if (kind === 'string') {
    if (typeof raw !== 'string' || raw === '') throw bad('a non-empty string');
    return raw;
  }
  const x = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  const checks: Record<string, [(x: number) => boolean, string]> = {
    int: [(v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'],
    posint: [(v) => Number.isInteger(v) && v > 0, 'a positive integer'],
    pos: [(v) => v > 0, 'a number > 0'],
    prob: [(v) => v > 0 && v < 1, 'a number in (0, 1)'],
    nonneg: [(v) => v >= 0, 'a number ≥ 0'],
  };
  const [ok, what] = checks[kind as string]!;
  if (!Number.isFinite(x) || !ok(x)) throw bad(what);
  return x;
}

/**
 * The flags explicitly chosen by the user: the config file's entries, overridden by command-line
 * flags. Every value is checked; unknown keys are refused naming the valid ones.
 */
export function explicitSettings(flags: Record<string, unknown>): Partial<TrainConfig> {
  const out: Record<string, unknown> = {};
  const file = typeof flags.config === 'string' ? flags.config : undefined;
  if (file) {
    for (const [k, v] of Object.entries(readConfigFile(file))) {
      if (k === 'model-config') {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) {
          throw new UsageError(`--config ${file}: "model-config" must be a mapping of config fields to numbers, e.g. {"n_embd": 16, "n_layer": 1}`);
        }
        const bad = Object.entries(v).find(([, x]) => typeof x !== 'number');
        if (bad) throw new UsageError(`--config ${file}: "model-config.${bad[0]}" must be a number, got ${JSON.stringify(bad[1])}`);
        out[k] = v;
      } else if (!(k in FLAGS)) {
        throw new UsageError(`--config ${file}: unknown key '${k}'; valid keys are the flag names: ${Object.keys(FLAGS).join(', ')}, model-config`);
      } else {
        out[k] = parseValue(k, v, ` (in ${file})`);
      }
    }
  }
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || v === undefined) continue;
    out[k] = parseValue(k, v, '');
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
  checkThresholds(config);
  return config;
}

/** The adaptive-threshold flags apply only to private runs with --thresholds adaptive and abadi clipping. */
function checkThresholds(config: TrainConfig): void {
  const adaptiveOnly = (['target-quantile', 'threshold-lr', 'count-noise'] as const).filter((k) => config[k] !== undefined);
  if (config.thresholds !== 'adaptive') {
    if (adaptiveOnly.length) throw new UsageError(`--${adaptiveOnly[0]} applies to --thresholds adaptive only; add --thresholds adaptive or drop it`);
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
