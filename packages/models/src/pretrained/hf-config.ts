import { ClipwiseModelError } from '../clipwise-model-error.js';
import { validateGpt2Config, type Gpt2Config } from '../gpt2/gpt2-config.js';
import { validateVitConfig, type ResolvedVitConfig } from '../vit/vit-config.js';

/** A Hugging Face `config.json`, recognised and validated. */
export type HfModelConfig = { readonly type: 'gpt2'; readonly config: Gpt2Config } | { readonly type: 'vit'; readonly config: ResolvedVitConfig };

const ARCHITECTURES: Readonly<Record<string, 'gpt2' | 'vit'>> = {
  GPT2LMHeadModel: 'gpt2',
  GPT2Model: 'gpt2',
  ViTForImageClassification: 'vit',
  ViTModel: 'vit',
};

/** GPT-2 activations that are all the tanh approximation our `geluTanh` computes. */
const GPT2_ACTIVATIONS = ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'];

/** Parses the text of a `config.json` and validates it with {@link parseHfConfig}; `source` names it in errors. */
export function parseHfConfigText(text: string, source = 'config.json'): HfModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ClipwiseModelError(`${source} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ClipwiseModelError(`${source} must hold a JSON object, got ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}`);
  }
  return parseHfConfig(raw as Record<string, unknown>, source);
}

/**
 * Recognises the model family (`model_type` 'gpt2' | 'vit', else the first known entry of
 * `architectures`) and validates the config for it, refusing fields whose semantics this package
 * does not implement (an untied GPT-2 head, another activation, ...).
 */
export function parseHfConfig(raw: Record<string, unknown>, source = 'config.json'): HfModelConfig {
  const type = modelType(raw, source);
  if (type === 'vit') return { type, config: validateVitConfig(raw, source) };
  const refuse = (field: string, why: string) => {
    throw new ClipwiseModelError(`${source}: GPT-2 config field '${field}' = ${JSON.stringify(raw[field])} is not supported: ${why}`);
  };
  const act = raw['activation_function'];
  if (act !== undefined && !GPT2_ACTIVATIONS.includes(act as string)) refuse('activation_function', `expected one of ${GPT2_ACTIVATIONS.join(', ')}`);
  if (raw['tie_word_embeddings'] === false) refuse('tie_word_embeddings', 'this GPT-2 always ties its LM head to the token embedding');
  if (raw['scale_attn_weights'] === false) refuse('scale_attn_weights', 'attention scores are always scaled by 1/sqrt(head dim)');
  if (raw['scale_attn_by_inverse_layer_idx'] === true) refuse('scale_attn_by_inverse_layer_idx', 'not implemented');
  if (raw['add_cross_attention'] === true) refuse('add_cross_attention', 'cross-attention is not implemented');
  const eps = raw['layer_norm_epsilon'];
  if (eps !== undefined && !(typeof eps === 'number' && eps > 0 && Number.isFinite(eps))) refuse('layer_norm_epsilon', 'expected a positive number');
  const inner = raw['n_inner'];
  if (inner !== undefined && inner !== null && !(Number.isInteger(inner) && (inner as number) > 0)) refuse('n_inner', 'expected a positive integer or null');
  return { type, config: validateGpt2Config(raw, source) };
}

function modelType(raw: Record<string, unknown>, source: string): 'gpt2' | 'vit' {
  const declared = raw['model_type'];
  if (declared === 'gpt2' || declared === 'vit') return declared;
  if (declared !== undefined) {
    throw new ClipwiseModelError(`${source}: model_type ${JSON.stringify(declared)} is not supported; expected 'gpt2' or 'vit'`);
  }
  const archs = raw['architectures'];
  const known = Array.isArray(archs) ? archs.map((a) => ARCHITECTURES[a as string]).find((t) => t !== undefined) : undefined;
  if (known) return known;
  throw new ClipwiseModelError(
    `${source}: cannot tell the model type: no 'model_type' and no known 'architectures' (got ${JSON.stringify(archs)}); ` +
      `add "model_type": "gpt2" or "vit"`,
  );
}
