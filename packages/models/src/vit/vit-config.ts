import { ClipwiseModelError } from '../clipwise-model-error.js';

/** The fields of a Hugging Face ViT `config.json` we use. */
export interface VitConfig {
  readonly model_type?: 'vit';
  readonly image_size: number;
  readonly patch_size: number;
  readonly num_channels: number;
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly intermediate_size: number;
  /** Number of classes. Hub configs usually give `id2label` instead; `validateVitConfig` fills this in from it. */
  readonly num_labels?: number;
  readonly id2label?: Readonly<Record<string, string>>;
  /** Default 1e-12. */
  readonly layer_norm_eps?: number;
  /** Bias on the query/key/value projections; default true. */
  readonly qkv_bias?: boolean;
  /** Only exact GELU ('gelu') is supported. */
  readonly hidden_act?: string;
}

/** A validated config: `num_labels` is always set. */
export type ResolvedVitConfig = VitConfig & { readonly num_labels: number };

/**
 * Named shapes. `vit-base-16` is ViT-B/16 at 224 px (google/vit-base-patch16-224 shapes) with a
 * 10-class head for CIFAR-10 fine-tuning (the hub checkpoint's head has 1000 classes: load it with
 * `loadPretrained(dir, { numLabels: 10 })`); the tiny ones are for tests, CPU and the demo on 32 px images.
 */
export const VIT_PRESETS: Readonly<Record<string, ResolvedVitConfig>> = {
  'vit-base-16': {
    model_type: 'vit',
    image_size: 224,
    patch_size: 16,
    num_channels: 3,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    num_labels: 10,
    layer_norm_eps: 1e-12,
  },
  'vit-tiny': {
    model_type: 'vit',
    image_size: 32,
    patch_size: 4,
    num_channels: 3,
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    num_labels: 10,
    layer_norm_eps: 1e-12,
  },
  'vit-mini': {
    model_type: 'vit',
    image_size: 32,
    patch_size: 4,
    num_channels: 3,
    hidden_size: 128,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    intermediate_size: 256,
    num_labels: 10,
    layer_norm_eps: 1e-12,
  },
};

/**
 * Checks a ViT config, naming the bad field, and resolves `num_labels` (from `id2label` when
 * absent, as Hugging Face does). Unknown fields are kept, so a hub config round-trips.
 */
export function validateVitConfig(c: Partial<VitConfig>, source = 'config'): ResolvedVitConfig {
  for (const key of ['image_size', 'patch_size', 'num_channels', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size'] as const) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ClipwiseModelError(`${source}: ViT config field '${key}' must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  if (c.image_size! % c.patch_size! !== 0) {
    throw new ClipwiseModelError(`${source}: image_size (${c.image_size}) must be divisible by patch_size (${c.patch_size})`);
  }
  if (c.hidden_size! % c.num_attention_heads! !== 0) {
    throw new ClipwiseModelError(`${source}: hidden_size (${c.hidden_size}) must be divisible by num_attention_heads (${c.num_attention_heads})`);
  }
  const fromLabels = c.id2label && typeof c.id2label === 'object' ? Object.keys(c.id2label).length : undefined;
  const numLabels = c.num_labels ?? fromLabels;
  if (typeof numLabels !== 'number' || !Number.isInteger(numLabels) || numLabels <= 0) {
    throw new ClipwiseModelError(
      `${source}: ViT config needs the number of classes: 'num_labels' (a positive integer) or a non-empty 'id2label', got ` +
        `num_labels ${JSON.stringify(c.num_labels)}, id2label ${JSON.stringify(c.id2label)}`,
    );
  }
  if (c.num_labels !== undefined && fromLabels !== undefined && fromLabels !== c.num_labels) {
    throw new ClipwiseModelError(`${source}: num_labels (${c.num_labels}) disagrees with id2label (${fromLabels} labels); drop one of them`);
  }
  const eps = c.layer_norm_eps;
  if (eps !== undefined && !(typeof eps === 'number' && eps > 0 && Number.isFinite(eps))) {
    throw new ClipwiseModelError(`${source}: layer_norm_eps must be a positive number, got ${JSON.stringify(eps)}`);
  }
  if (c.hidden_act !== undefined && c.hidden_act !== 'gelu') {
    throw new ClipwiseModelError(`${source}: hidden_act '${c.hidden_act}' is not supported; this ViT uses exact GELU ('gelu')`);
  }
  if (c.qkv_bias !== undefined && typeof c.qkv_bias !== 'boolean') {
    throw new ClipwiseModelError(`${source}: qkv_bias must be true or false, got ${JSON.stringify(c.qkv_bias)}`);
  }
  return { ...c, num_labels: numLabels } as ResolvedVitConfig;
}
