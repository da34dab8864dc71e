import { BACKEND_NAMES, type BackendName } from '@clipwise/core';
import type { NormModeOption } from '@clipwise/ghost-norm';
import type { VitQkvLayout } from '@clipwise/models';
import type { FlagSpec } from '../flags/flag-spec';
import type { BenchOptimizer } from '../profile/step-runner';

/** The flags bench and profile share; `defaults` are the ones that differ between them. */
export function shapeFlags(defaults: { batchSize: number; reps: number }): FlagSpec[] {
  return [
    { name: 'model', kind: 'string', value: 'PRESET', default: 'gpt2-tiny', description: 'model shape, random weights: gpt2-tiny, gpt2-mini, gpt2 (124M), vit-tiny, vit-mini, vit-base-16' },
    { name: 'model-config', kind: 'json', value: 'JSON', description: 'fields merged over the preset\'s config, e.g. \'{"n_layer":8}\'' },
    { name: 'batch-size', kind: 'posint', value: 'B', unit: 'examples', default: defaults.batchSize, description: 'batch size of every step' },
    { name: 'seq-len', kind: { ok: (x) => Number.isInteger(x) && x >= 2, expected: 'an integer ≥ 2' }, value: 'T', unit: 'tokens', description: 'GPT-2 sequence length', defaultText: '64 tokens' },
    { name: 'reps', kind: 'posint', value: 'N', unit: 'rounds', default: defaults.reps, description: 'timed rounds (the median is reported)' },
    { name: 'warmup', kind: 'int', value: 'N', unit: 'steps', default: 1, description: 'warm-up steps of each configuration before it is measured' },
    { name: 'backend', kind: [...BACKEND_NAMES], default: 'auto', description: 'TensorFlow.js backend' },
    { name: 'threads', kind: 'posint', value: 'N', description: 'wasm backend in Node: XNNPACK threads (1–8)', defaultText: 'CLIPWISE_WASM_THREADS, else every core (at most 8)' },
    { name: 'optimizer', kind: ['sgd', 'adamw', 'none'], default: 'adamw', description: 'the update after release (with a negligible learning rate); none: no update' },
    { name: 'noise-multiplier', kind: 'nonneg', value: 'S', default: 1, description: 'σ of the release (0: no noise draw)' },
    { name: 'norm-mode', kind: ['auto', 'ghost', 'instantiate'], default: 'auto', description: 'per-sample norms: auto is the mixed rule (ghost when 2T² ≤ d·p)' },
    { name: 'vit-qkv', kind: ['separate', 'packed'], default: 'separate', description: "ViT: q, k, v as Hugging Face's three projections (separate) or timm's one [3d, d] projection (packed: one product a block; layer-wise clips q|k|v as one layer)" },
  ];
}

export interface ShapeSettings {
  model: string;
  modelConfig: Record<string, unknown>;
  batchSize: number;
  seqLen?: number;
  reps: number;
  warmup: number;
  backend: BackendName;
  /** wasm in Node: XNNPACK threads (unset: the default of setupBackend). */
  threads?: number;
  optimizer: BenchOptimizer;
  noiseMultiplier: number;
  normMode: NormModeOption;
  /** ViT: how q, k, v are held (`VitOptions.qkv`). */
  vitQkv: VitQkvLayout;
}

/** The shared flags, checked and with their defaults (`resolveFlags` of `shapeFlags`), as run options. */
export function shapeSettings(flags: Record<string, unknown>): ShapeSettings {
  return {
    model: flags['model'] as string,
    modelConfig: (flags['model-config'] as Record<string, unknown> | undefined) ?? {},
    batchSize: flags['batch-size'] as number,
    seqLen: flags['seq-len'] as number | undefined,
    reps: flags['reps'] as number,
    warmup: flags['warmup'] as number,
    backend: flags['backend'] as BackendName,
    threads: flags['threads'] as number | undefined,
    optimizer: flags['optimizer'] as BenchOptimizer,
    noiseMultiplier: flags['noise-multiplier'] as number,
    normMode: flags['norm-mode'] as NormModeOption,
    vitQkv: flags['vit-qkv'] as VitQkvLayout,
  };
}
