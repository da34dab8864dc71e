import { ClipwiseModelError } from '../clipwise-model-error.js';

/** The fields of a Hugging Face GPT-2 `config.json` we use. */
export interface Gpt2Config {
  readonly model_type?: 'gpt2';
  readonly vocab_size: number;
  readonly n_positions: number;
  readonly n_embd: number;
  readonly n_layer: number;
  readonly n_head: number;
  readonly layer_norm_epsilon?: number;
  /** Inner MLP width; default 4·n_embd. */
  readonly n_inner?: number | null;
}

/** Named shapes: `gpt2` is GPT-2 small (124M); the tiny ones are for tests, CPU and the demo. */
export const GPT2_PRESETS: Readonly<Record<string, Gpt2Config>> = {
  gpt2: { model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, layer_norm_epsilon: 1e-5 },
  'gpt2-tiny': { model_type: 'gpt2', vocab_size: 257, n_positions: 128, n_embd: 64, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5 },
  'gpt2-mini': { model_type: 'gpt2', vocab_size: 257, n_positions: 256, n_embd: 128, n_layer: 4, n_head: 4, layer_norm_epsilon: 1e-5 },
};

/** Checks a GPT-2 config, naming the bad field. */
export function validateGpt2Config(c: Partial<Gpt2Config>, source = 'config'): Gpt2Config {
  for (const key of ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head'] as const) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ClipwiseModelError(`${source}: GPT-2 config field '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  if (c.n_embd! % c.n_head! !== 0) {
    throw new ClipwiseModelError(`${source}: n_embd (${c.n_embd}) must be divisible by n_head (${c.n_head})`);
  }
  return c as Gpt2Config;
}
