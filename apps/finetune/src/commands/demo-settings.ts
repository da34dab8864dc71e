import type { TrainConfig } from '../train/train-config';

// Browser-safe: the settings of `clipwise demo` and of the web example (apps/web).

/** The shipped model the demo fine-tunes (`assets/<DEMO_MODEL>`, made by `scripts/make-demo-model.sh`, see its README). */
export const DEMO_MODEL = 'pretrained-public-bpe4k';

/** The shipped E2E sample (`assets/<DEMO_DATA>/train.csv`, `test.csv`). */
export const DEMO_DATA = 'e2e-sample';

/**
 * The demo's `clipwise train` settings besides its files (`--model`, `--data`, `--eval-data`): DP-AdamW,
 * layer-wise clipping and Poisson sampling at ε = 8 over 50 steps of 64 expected examples. The
 * tokenizer is the model folder's own (tokenizer.json: GPT-2 BPE cut to 4,096 public-text tokens).
 */
export const DEMO_SETTINGS = {
  'seq-len': 176,
  epsilon: 8,
  delta: 1e-5,
  // on the demo's 3 MRs, same seed (apps/finetune/README.md): 50 × 64 at 1e-2 gave ROUGE-L 23.5 → 45.9;
  // 30 × 32 at 2e-2 22.5, 60 × 32 at 1e-2 30.7, 100 × 32 at 1e-2 32.0, 40 × 64 at 1e-2 37.5
  steps: 50,
  'batch-size': 64,
  'max-physical-batch': 32,
  grouping: 'layer-wise',
  'clip-norm': 1,
  optimizer: 'adamw',
  lr: 1e-2,
  schedule: 'warmup-cosine',
  warmup: 3,
  'eval-limit': 48,
  'gen-limit': 3,
  'gen-tokens': 48,
  // greedy decoding of a small model loops; n-gram blocking (Hugging Face's no_repeat_ngram_size)
  'gen-no-repeat-ngram': 3,
  // the 1.1M-parameter model does not copy names by itself ("name[Blue Spice]" → "The Peop is ..."):
  // where it would begin a capitalised word, the MR's next name is offered (+8 nats; 3 missed
  // "Clowns", 5 "All Bar One", 8–30 gave the same texts); on all 24 test MRs ROUGE-L 32.3 → 43.0 after
  // the 50 steps (apps/finetune/README.md)
  'gen-copy-bias': 8,
  backend: 'auto',
  seed: 0,
} as const satisfies Partial<TrainConfig>;

/**
 * The web example's model: the byte-level tiny GPT-2 pre-trained on public Shakespeare (the page
 * needs no tokenizer file, and its 133k parameters train at interactive speed on wasm in a tab).
 */
export const PAGE_MODEL = 'pretrained-shakespeare-byte';

/** The web example's settings: the earlier demo's (byte tokenizer, 18 steps at ε = 8). */
export const PAGE_SETTINGS = {
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
