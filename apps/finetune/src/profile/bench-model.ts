import * as tf from '@tensorflow/tfjs-core';
import { checkParamsBindable, type ParamSpec } from '@clipwise/core';
import {
  ClipwiseModelError, GPT2_PRESETS, Gpt2Model, VIT_PRESETS, VitModel, addLora, parseTrainableSpec, selectTrainable, validateGpt2Config, validateVitConfig,
  type PretrainedModel, type VitQkvLayout,
} from '@clipwise/models';
import { UsageError } from '../usage-error';

/** A randomly initialised model with random inputs of any batch size: what bench and profile run. */
export interface BenchModel {
  /** Preset name and the shape it runs at. */
  readonly label: string;
  /** The parameters that train (all of them unless a trainable mode froze some or added LoRA). */
  readonly params: readonly ParamSpec[];
  /** Scalars of the model (frozen ones included). */
  readonly paramCount: number;
  /** Scalars that train. */
  readonly trainedCount: number;
  /** The trainable mode: 'all', 'bias', 'last:K' or 'lora:R'. */
  readonly trainable: string;
  /** Rows per sample the layers see: tokens (GPT-2) or patches + class token (ViT). */
  readonly seqLen: number;
  /**
   * GPT-2's logits, which the model splits into spans of positions past its logits limit
   * (`Gpt2Options.logitsLimitBytes`): their bytes per sample whole and of one position, the span count
   * at a batch (`Gpt2Model.logitsSpanCount`, null where one position's logits do not fit), and a fixed
   * span count for traces (`Gpt2Model.setLogitsSpans`). Absent for ViT.
   */
  readonly logitsSpans?: LogitsSpans;
  /** The per-sample loss ([B]) of a fixed random batch of `batch` samples (inputs made once, reused). */
  lossAt(batch: number): () => tf.Tensor1D;
  dispose(): void;
}

/** GPT-2's logits spans, as a bench model exposes them (`BenchModel.logitsSpans`). */
export interface LogitsSpans {
  readonly wholeBytesPerSample: number;
  readonly positionBytesPerSample: number;
  /** The span count the model runs at `batch`; null where one position's logits for the batch pass the limit. */
  at(batch: number): number | null;
  /** Run on `spans` spans whatever the batch (null: by the limit again). */
  force(spans: number | null): void;
}

const BENCH_PRESETS = [...Object.keys(GPT2_PRESETS), ...Object.keys(VIT_PRESETS)];

/** How `buildBenchModel` builds its model beyond the preset and shape. */
export interface BenchModelOptions {
  /** Seed of the weights and inputs (default 1). */
  readonly seed?: number;
  /** The trainable mode: 'all' (default), 'bias', 'last:K' or 'lora:R'. */
  readonly trainable?: string;
  /** GPT-2: `Gpt2Options.logitsLimitBytes` (default the backend's binding limit). */
  readonly logitsLimitBytes?: number;
  /** ViT: `VitOptions.qkv` (default 'separate'). */
  readonly vitQkv?: VitQkvLayout;
}

/**
 * Builds a preset (`gpt2-tiny`, `gpt2` = GPT-2 small's 124M shape, `vit-base-16`, ...) with random
 * weights, `overrides` applied to its config (e.g. `{ n_layer: 8 }`). GPT-2 runs at `seqLen` tokens
 * (n_positions is raised to fit); ViT's sequence is fixed by its image and patch sizes.
 *
 * @example
 * const m = buildBenchModel('gpt2-tiny', {}, 64);
 * const loss = m.lossAt(16)(); // [16]
 * const vit = buildBenchModel('vit-tiny', {}, undefined, { vitQkv: 'packed', trainable: 'bias' });
 */
export function buildBenchModel(preset: string, overrides: Record<string, unknown>, seqLen: number | undefined, o: BenchModelOptions = {}): BenchModel {
  const { seed = 1, trainable = 'all', logitsLimitBytes, vitQkv } = o;
  const inputs = new Map<number, tf.Tensor[]>();
  const cached = (batch: number, make: () => tf.Tensor[]) => {
    if (!(Number.isInteger(batch) && batch > 0)) throw new UsageError(`batch size must be a positive integer, got ${batch}`);
    let t = inputs.get(batch);
    if (!t) inputs.set(batch, (t = make()));
    return t;
  };
  const disposeInputs = () => inputs.forEach((t) => tf.dispose(t));
  if (GPT2_PRESETS[preset]) {
    if (vitQkv && vitQkv !== 'separate') throw new UsageError(`--vit-qkv ${vitQkv} applies to ViT presets; ${preset} is a GPT-2 (its c_attn is packed already)`);
    const t = seqLen ?? 64;
    if (!(Number.isInteger(t) && t >= 2)) throw new UsageError(`--seq-len must be an integer ≥ 2 for GPT-2, got ${t}`);
    const base = GPT2_PRESETS[preset]!;
    const config = validateGpt2Config({ ...base, ...overrides, n_positions: Math.max(t, (overrides['n_positions'] as number | undefined) ?? base.n_positions) }, `--model ${preset}`);
    const model = bindable(new Gpt2Model(config, { seed, ...(logitsLimitBytes !== undefined ? { logitsLimitBytes } : {}) }));
    const params = trainableOf(model, trainable);
    return {
      label: `${preset} (n_layer ${config.n_layer}, n_embd ${config.n_embd}, vocab ${config.vocab_size}), T=${t}`,
      params,
      logitsSpans: {
        wholeBytesPerSample: model.logitsBytes(1, t),
        positionBytesPerSample: model.logitsBytes(1, 1),
        at: (batch) => {
          try {
            return model.logitsSpanCount(batch, t);
          } catch (e) {
            // one position's logits for the batch pass the limit: no span count runs it
            if (e instanceof ClipwiseModelError) return null;
            throw e;
          }
        },
        force: (spans) => model.setLogitsSpans(spans),
      },
      paramCount: model.params.reduce((s, p) => s + p.size, 0),
      trainedCount: params.reduce((s, p) => s + p.size, 0),
      trainable,
      seqLen: t,
      lossAt(batch) {
        const [ids] = cached(batch, () => [tf.randomUniform([batch, t], 0, config.vocab_size, 'int32', seed + batch)]);
        return () => model.perSampleLoss(ids as tf.Tensor2D);
      },
      dispose() {
        disposeInputs();
        model.dispose();
      },
    };
  }
  if (VIT_PRESETS[preset]) {
    const config = validateVitConfig({ ...VIT_PRESETS[preset]!, ...overrides }, `--model ${preset}`);
    const model = bindable(new VitModel(config, { seed, qkv: vitQkv }));
    const params = trainableOf(model, trainable);
    const s = config.image_size;
    const patches = (s / config.patch_size) ** 2 + 1;
    if (seqLen !== undefined && seqLen !== patches) {
      throw new UsageError(`--seq-len ${seqLen} does not apply to ${preset}: its sequence is ${patches} (image ${s}, patch ${config.patch_size}); leave --seq-len out`);
    }
    return {
      label: `${preset} (layers ${config.num_hidden_layers}, hidden ${config.hidden_size}, image ${s}/${config.patch_size}${vitQkv === 'packed' ? ', q|k|v packed' : ''}), T=${patches}`,
      params,
      paramCount: model.params.reduce((n, p) => n + p.size, 0),
      trainedCount: params.reduce((n, p) => n + p.size, 0),
      trainable,
      seqLen: patches,
      lossAt(batch) {
        const [pixels, labels] = cached(batch, () => [
          tf.randomNormal([batch, config.num_channels, s, s], 0, 1, 'float32', seed + batch),
          tf.randomUniform([batch], 0, config.num_labels, 'int32', seed + 2 * batch),
        ]);
        return () => model.perSampleLoss(pixels as tf.Tensor4D, labels as tf.Tensor1D);
      },
      dispose() {
        disposeInputs();
        model.dispose();
      },
    };
  }
  throw new UsageError(`--model '${preset}' is not a preset; expected one of ${BENCH_PRESETS.join(', ')}`);
}

/**
 * Applies a bench trainable mode: `all`, `bias`, `last:K`, prefixes, or `lora:R` (LoRA of rank R, α = R,
 * on peft's default targets: GPT-2 c_attn, ViT query and value). Returns the trainable parameters.
 */
function trainableOf(model: PretrainedModel, mode: string): ParamSpec[] {
  try {
    const lora = /^lora:(.*)$/.exec(mode);
    if (!lora) return selectTrainable(model, parseTrainableSpec(mode));
    addLora(model, { rank: Number(lora[1]), seed: 1 });
    return model.trainableParams;
  } catch (e) {
    model.dispose();
    if (e instanceof ClipwiseModelError) throw new UsageError(`--trainable ${mode}: ${e.message}`);
    throw e;
  }
}

/**
 * A non-uniform grouping for the model: groups starting at the first layer, at the layer half way
 * through and at three quarters (forward order), so group sizes are uneven.
 */
export function defaultNonUniform(params: readonly ParamSpec[]): string {
  const layers = [...new Set([...params].sort((a, b) => a.order - b.order).map((p) => p.layer))];
  const cut = [Math.floor(layers.length / 2), Math.floor((3 * layers.length) / 4)].filter((i, k, a) => i > 0 && a.indexOf(i) === k);
  return `non-uniform:${cut.map((i) => layers[i]!).join(',')}`;
}

/** `model`, unless a parameter of it (trained or frozen) is larger than the device binds: then disposed, and refused. */
function bindable<M extends { readonly params: readonly ParamSpec[]; dispose(): void }>(model: M): M {
  try {
    checkParamsBindable(model.params);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
