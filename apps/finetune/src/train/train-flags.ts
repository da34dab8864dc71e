import { BACKEND_NAMES } from '@clipwise/core';
import type { FlagSpec } from '../flags/flag-spec';

/**
 * Every flag of `clipwise train` (and `clipwise demo`), which are also the keys of a `--config`
 * file. Defaults given as `default` are applied by `resolveConfig`; those that depend on other
 * flags are applied there and only described here (`defaultText`).
 */
export const TRAIN_FLAGS: readonly FlagSpec[] = [
  // data
  { name: 'data', kind: 'string', value: 'PATH', group: 'data', description: 'training data: E2E .csv, .txt, .jsonl (field "text"), an image folder (train/, test/ or class folders), a .tar.gz archive or a CIFAR binary folder / .bin file (required unless --resume finds a checkpoint)' },
  { name: 'eval-data', kind: 'string', value: 'PATH', group: 'data', description: 'evaluation data, same formats', defaultText: "the 'test' split of --data when it has one" },
  { name: 'task', kind: ['text', 'e2e', 'images'], group: 'data', description: 'what --data holds', defaultText: 'from --data: .csv → e2e, .txt/.jsonl → text, folder/.tar(.gz)/.tgz/.bin → images' },
  { name: 'limit', kind: 'posint', value: 'N', group: 'data', unit: 'examples', description: 'keep the first N training examples (images: N evenly spaced, so every class stays)', defaultText: 'all' },
  { name: 'eval-limit', kind: 'posint', value: 'N', group: 'data', unit: 'examples', description: 'keep the first N evaluation examples', defaultText: 'all' },
  { name: 'gen-limit', kind: 'int', value: 'N', group: 'data', unit: 'MRs', default: 20, description: 'E2E: greedy generations for the first N distinct MRs of the eval set' },
  { name: 'gen-tokens', kind: 'posint', value: 'N', group: 'data', unit: 'tokens', default: 40, description: 'E2E: at most this many tokens per generation' },
  { name: 'gen-no-repeat-ngram', kind: 'int', value: 'N', group: 'data', unit: 'tokens', default: 0, description: 'E2E: greedy decoding never repeats an n-gram of N tokens of its own output (0: off)' },
  { name: 'gen-copy-bias', kind: 'nonneg', value: 'B', group: 'data', unit: 'nats', default: 0, description: "E2E: greedy decoding favours copying the MR's names (values with every word capitalised): where the model would begin a capitalised word, B is added to the logit of the next unwritten name's first token (in MR order, each once); a begun name is finished (0: off)" },
  { name: 'tokenizer', kind: ['gpt2', 'byte', 'word', 'gpt2-subset'], group: 'data', description: '`word` is fitted on the training data and reported as a non-private choice; `gpt2-subset` (GPT-2 BPE cut to the vocab_size most frequent tokens; other tokens split into kept ones) is fitted on --data for --no-dp runs on public text, else read from the model folder\'s tokenizer.json', defaultText: 'byte for presets; for a folder model, its tokenizer.json, else gpt2' },
  { name: 'seq-len', kind: 'posint', value: 'T', group: 'data', unit: 'tokens', default: 64, description: 'E2E row length / text block length' },
  // model
  { name: 'model', kind: 'string', value: 'DIR|PRESET', group: 'model', description: 'a folder with config.json + model.safetensors, or a preset initialised from --seed: gpt2-tiny, gpt2-mini, gpt2, vit-tiny, vit-mini, vit-base-16', defaultText: 'gpt2-tiny for text, vit-tiny for images' },
  { name: 'model-config', kind: 'json', value: 'JSON', group: 'model', description: 'fields merged over the preset\'s config, e.g. \'{"n_embd":16,"n_layer":1}\' (a mapping in a config file)' },
  { name: 'trainable', kind: 'string', value: 'SPEC', group: 'model', default: 'all', description: "which parameters train; the others stay frozen (no norms, noise or optimizer state): all, or a comma-separated union of bias (DP-BiTFiT: every .bias), last:K (the last K blocks and the layers after them) and parameter name prefixes, e.g. bias,classifier; with --lora-rank only the adapters (and --lora-modules-to-save) train" },
  { name: 'lora-rank', kind: 'posint', value: 'R', group: 'model', description: 'add LoRA adapters of rank R to --lora-targets and train them alone (base frozen but for --lora-modules-to-save); the adapter is saved in peft format in OUT/adapter' },
  { name: 'lora-alpha', kind: 'pos', value: 'A', group: 'model', description: 'LoRA α: the update is scaled by α/r', defaultText: 'the rank (scaling 1)' },
  { name: 'lora-targets', kind: 'string', value: 'NAME,...', group: 'model', description: "linear layers to adapt, matched as peft's target_modules (a name or its last parts): GPT-2 c_attn, c_proj, c_fc; ViT query, key, value, dense; or all-linear (all but the output layer), or re:PATTERN (a regex the whole module name must match, e.g. 're:transformer\\.h\\.0\\..*')", defaultText: 'c_attn (GPT-2), query,value (ViT)' },
  { name: 'lora-modules-to-save', kind: 'string', value: 'NAME,...', group: 'model', description: "with --lora-rank: modules trained in full beside the adapters, as peft's modules_to_save (every module whose name ends with a NAME, all its parameters, clipped and noised like the rest), saved in OUT/adapter; classifier trains a ViT's head, re-initialised when --model's class count differs from the data's or with --new-head" },
  { name: 'vit-qkv', kind: ['separate', 'packed'], group: 'model', default: 'separate', description: "ViT: q, k, v as Hugging Face's three projections (separate) or timm's one [3d, d] projection (packed: one product a block, fewer and larger matmuls; layer-wise clipping clips q|k|v as one layer; not with --lora-rank). Checkpoints keep Hugging Face's three tensors either way" },
  { name: 'new-head', kind: 'bool', group: 'model', default: false, description: "ViT from a folder: a fresh classifier head (from --seed) even where --model's class count equals the data's, for a transfer to other classes (a different count always gets one)" },
  { name: 'merge-adapter', kind: 'bool', group: 'model', default: false, description: 'with --lora-rank: also write OUT/merged, a full model folder with the adapter folded into the weights' },
  // privacy
  { name: 'epsilon', kind: 'pos', value: 'E', group: 'privacy', description: 'target ε: σ is calibrated for the planned steps; with --noise-multiplier, a budget that stops training before it is exceeded', defaultText: '8 unless --noise-multiplier or --no-dp' },
  { name: 'delta', kind: 'prob', value: 'D', group: 'privacy', default: 1e-5, description: 'δ of the (ε, δ) guarantee' },
  { name: 'noise-multiplier', kind: 'pos', value: 'S', group: 'privacy', description: 'fixed σ (noise std / clipping norm) instead of calibrating it to --epsilon' },
  { name: 'no-dp', kind: 'bool', group: 'privacy', default: false, description: 'non-private baseline: same forward/backward, no clipping or noise; the report says NOT PRIVATE' },
  { name: 'accountant', kind: ['rdp', 'prv'], group: 'privacy', default: 'rdp', description: 'privacy accountant' },
  { name: 'sampling', kind: ['poisson', 'shuffle'], group: 'privacy', default: 'poisson', description: 'batch sampling; shuffle runs carry the caveat that the Poisson analysis is not a proven guarantee for them' },
  { name: 'clipping', kind: ['abadi', 'automatic'], group: 'privacy', default: 'abadi', description: 'per-sample clipping function (automatic: AUTO-S with γ = 0.01)' },
  { name: 'clip-norm', kind: 'pos', value: 'C', group: 'privacy', default: 1, description: 'clipping norm C' },
  { name: 'grouping', kind: 'string', value: 'G', group: 'privacy', default: 'layer-wise', description: 'which parameters are clipped together: all-layer, layer-wise, param-wise, uniform:K, non-uniform:PREFIX,..., per-device' },
  { name: 'thresholds', kind: ['fixed', 'adaptive'], group: 'privacy', default: 'fixed', description: 'per-group thresholds: C/sqrt(M) each, or adaptive quantiles from noisy per-group counts (abadi clipping only)' },
  { name: 'target-quantile', kind: 'prob', value: 'Q', group: 'privacy', description: 'adaptive: target unclipped fraction γ of each group', defaultText: '0.5 with --thresholds adaptive' },
  { name: 'threshold-lr', kind: 'pos', value: 'ETA', group: 'privacy', description: 'adaptive: learning rate η of the geometric threshold update', defaultText: '0.2 with --thresholds adaptive' },
  { name: 'count-noise', kind: 'pos', value: 'SB', group: 'privacy', description: "σ_b, the noise std on each group's released count (adaptive thresholds, or the clip counts of --diagnostics private)", defaultText: 'adaptive: sqrt(M)·B/20; diagnostics: 5·σ·sqrt(M)/2' },
  { name: 'diagnostics', kind: ['private', 'raw', 'off'], group: 'privacy', description: 'training diagnostics: private = per-group clip fractions as noisy counts inside ε, loss on evaluation data only; raw = exact training loss and norm statistics, NOT PRIVATE, in log.jsonl only; off = none', defaultText: 'private (raw with --no-dp)' },
  // plan
  { name: 'epochs', kind: 'posint', value: 'K', group: 'plan', unit: 'epochs', description: 'plan in epochs of ⌊N/B⌋ steps', defaultText: '1 unless --steps' },
  { name: 'steps', kind: 'posint', value: 'N', group: 'plan', unit: 'steps', description: 'plan in steps instead of epochs' },
  { name: 'batch-size', kind: 'posint', value: 'B', group: 'plan', unit: 'examples', default: 32, description: 'expected logical batch (q = B/N, must be ≤ 1)' },
  { name: 'max-physical-batch', kind: 'posint', value: 'M', group: 'plan', unit: 'examples', default: 32, description: 'micro-batch cap (memory)' },
  // optimizer
  { name: 'optimizer', kind: ['sgd', 'adam', 'adamw'], group: 'optimizer', default: 'adamw', description: 'the update rule' },
  { name: 'lr', kind: 'pos', value: 'LR', group: 'optimizer', default: 1e-3, description: 'learning rate' },
  { name: 'schedule', kind: ['constant', 'cosine', 'warmup-cosine'], group: 'optimizer', default: 'constant', description: 'learning-rate schedule' },
  { name: 'warmup', kind: 'int', value: 'W', group: 'optimizer', unit: 'steps', default: 0, description: 'warm-up of warmup-cosine' },
  { name: 'weight-decay', kind: 'nonneg', value: 'WD', group: 'optimizer', default: 0, description: 'decoupled weight decay (adamw only)' },
  // run
  { name: 'backend', kind: [...BACKEND_NAMES], group: 'run', default: 'auto', description: 'TensorFlow.js backend; wasm is 7–10× faster than cpu on a CPU' },
  { name: 'threads', kind: 'posint', value: 'N', group: 'run', description: 'wasm backend in Node: XNNPACK threads (1–8); 2 threads run the demo step ~1.5× faster on 2 cores', defaultText: 'CLIPWISE_WASM_THREADS, else every core (at most 8)' },
  { name: 'matmul-tuning', kind: ['on', 'off'], group: 'run', defaultText: 'CLIPWISE_MATMUL_TUNING, else off', description: "webgpu: after this process's first step, time every matmul tile on that step's shapes and run each shape on its fastest from then on (once: about 25 s for ViT-B/16, a few seconds for small models; it saved 1.9-4.3 ms a ViT-B/16 step on an H100, so it pays over long runs)" },
  { name: 'seed', kind: 'int', value: 'S', group: 'run', default: 0, description: 'seed of initialisation, sampling and noise' },
  { name: 'out', kind: 'string', value: 'DIR', group: 'run', default: 'clipwise-run', description: 'run folder: checkpoint, logs, report' },
  { name: 'resume', kind: 'bool', group: 'run', default: false, description: 'continue the run in --out from its checkpoint (privacy settings must not change)' },
  { name: 'eval-every', kind: 'posint', value: 'N', group: 'run', unit: 'steps', description: 'evaluate and checkpoint every N steps', defaultText: 'each epoch end, and at the end' },
  { name: 'halt-after', kind: 'posint', value: 'N', group: 'run', unit: 'steps', description: 'stop this process after N steps with a checkpoint (for time-sliced jobs)' },
];

/** `--config FILE`: a command-line-only flag (a config file cannot name another). */
export const CONFIG_FLAG: FlagSpec = {
  name: 'config', kind: 'string', value: 'FILE', group: 'run',
  description: 'YAML (.yaml, .yml) or JSON file whose keys are these flag names; flags on the command line override it',
};
