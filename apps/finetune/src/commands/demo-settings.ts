import type { TrainConfig } from '../train/train-config';

// Browser-safe: `clipwise demo` and the web example (apps/web) train with these same settings.

/** The shipped model the demo fine-tunes (`assets/<DEMO_MODEL>`, made by `scripts/make-demo-model.sh`, see its README). */
export const DEMO_MODEL = 'pretrained-shakespeare-byte';

/** The shipped E2E sample (`assets/<DEMO_DATA>/train.csv`, `test.csv`). */
export const DEMO_DATA = 'e2e-sample';

/**
 * The demo's `clipwise train` settings besides its files (`--model`, `--data`, `--eval-data`): DP-AdamW,
 * layer-wise clipping and Poisson sampling at ε = 8 over 18 steps.
 */
export const DEMO_SETTINGS = {
  tokenizer: 'byte',
  'seq-len': 256,
  epsilon: 8,
  delta: 1e-5,
  steps: 18,
  'batch-size': 32,
  'max-physical-batch': 32,
  grouping: 'layer-wise',
  'clip-norm': 1,
  optimizer: 'adamw',
  lr: 5e-3,
  schedule: 'warmup-cosine',
  warmup: 2,
  'eval-limit': 48,
  'gen-limit': 2,
  'gen-tokens': 100,
  backend: 'auto',
  seed: 0,
} as const satisfies Partial<TrainConfig>;
