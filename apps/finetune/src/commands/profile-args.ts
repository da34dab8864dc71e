import type { BackendName } from '@clipwise/core';
import type { NormModeOption } from '@clipwise/ghost-norm';
import { UsageError } from '../usage-error';
import { backendFlag, numberFlag } from './flags';
import type { BenchOptimizer } from '../profile/step-runner';

/** Flags bench and profile share. */
export const SHAPE_OPTIONS = {
  model: { type: 'string' },
  'model-config': { type: 'string' },
  'batch-size': { type: 'string' },
  'seq-len': { type: 'string' },
  reps: { type: 'string' },
  warmup: { type: 'string' },
  backend: { type: 'string' },
  optimizer: { type: 'string' },
  'noise-multiplier': { type: 'string' },
  'norm-mode': { type: 'string' },
} as const;

export interface ShapeSettings {
  model: string;
  modelConfig: Record<string, unknown>;
  batchSize: number;
  seqLen?: number;
  reps: number;
  warmup: number;
  backend: BackendName;
  optimizer: BenchOptimizer;
  noiseMultiplier: number;
  normMode: NormModeOption;
}

function int(name: string, v: string | undefined, fallback: number, min: number): number {
  return numberFlag(name, v, fallback, (x) => Number.isInteger(x) && x >= min, `an integer ≥ ${min}`);
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], fallback: T): T {
  const x = (v ?? fallback) as T;
  if (!allowed.includes(x)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return x;
}

/** Checks the shared flags, naming the bad one. */
export function shapeSettings(values: Record<string, string | boolean | undefined>, defaults: { model: string; batchSize: number; reps: number }): ShapeSettings {
  const s = (k: string) => values[k] as string | undefined;
  let modelConfig: Record<string, unknown> = {};
  if (s('model-config') !== undefined) {
    try {
      modelConfig = JSON.parse(s('model-config')!) as Record<string, unknown>;
    } catch {
      throw new UsageError(`--model-config must be a JSON object of config fields, e.g. '{"n_layer":8}', got '${s('model-config')}'`);
    }
    if (typeof modelConfig !== 'object' || modelConfig === null || Array.isArray(modelConfig)) {
      throw new UsageError(`--model-config must be a JSON object, got '${s('model-config')}'`);
    }
  }
  const sigma = s('noise-multiplier') === undefined ? 1 : Number(s('noise-multiplier'));
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new UsageError(`--noise-multiplier must be a number ≥ 0, got '${s('noise-multiplier')}'`);
  return {
    model: s('model') ?? defaults.model,
    modelConfig,
    batchSize: int('batch-size', s('batch-size'), defaults.batchSize, 1),
    seqLen: s('seq-len') === undefined ? undefined : int('seq-len', s('seq-len'), 0, 2),
    reps: int('reps', s('reps'), defaults.reps, 1),
    warmup: int('warmup', s('warmup'), 1, 0),
    backend: backendFlag(s('backend')),
    optimizer: oneOf('optimizer', s('optimizer'), ['sgd', 'adamw', 'none'] as BenchOptimizer[], 'sgd'),
    noiseMultiplier: sigma,
    normMode: oneOf('norm-mode', s('norm-mode'), ['auto', 'ghost', 'instantiate'] as NormModeOption[], 'auto'),
  };
}
