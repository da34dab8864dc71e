import * as tf from '@tensorflow/tfjs-core';
import { ClassToken, Conv2d, LayerNorm, Linear, PositionalEmbedding, attentionPacked, collectParams, normalInit, withAdapterLayers, type DPLayer, type ParamSpec } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { residualMlp } from '../common/residual-mlp.js';
import { multiHeadAttention } from '../common/attention.js';
import { perSampleCrossEntropy } from '../common/losses.js';
import { validateVitConfig, type ResolvedVitConfig, type VitConfig } from './vit-config.js';

/** A block's query, key and value projections: three layers (Hugging Face's ViT) or one packed (timm's). */
type QkvProjections = { readonly query: Linear; readonly key: Linear; readonly value: Linear } | { readonly qkv: Linear };

interface Block {
  lnBefore: LayerNorm;
  attnIn: QkvProjections;
  attnOut: Linear;
  lnAfter: LayerNorm;
  fc: Linear;
  proj: Linear;
}

/** How a ViT holds its attention's query, key and value projections (`VitOptions.qkv`). */
export type VitQkvLayout = 'separate' | 'packed';

export interface VitOptions {
  /** Seed of the random initialisation. */
  seed?: number;
  /**
   * 'separate' (default): Hugging Face's three [d, d] projections `…attention.attention.query|key|value`.
   * 'packed': timm's one [3d, d] projection `…attention.attention.qkv` (rows q, then k, then v), run as
   * one product a block: fewer, larger matmuls, and layer-wise clipping clips q|k|v as one layer (as
   * fastDP does on timm's ViT). `loadPretrained` and `savePretrained` still read and write Hugging
   * Face's three tensors (`vit/qkv-layout.ts`).
   */
  qkv?: VitQkvLayout;
}

/**
 * ViT (`ViTForImageClassification` semantics) on DP-aware layers: a conv patch embedding, a class
 * token and learned positions, pre-LN blocks with bidirectional multi-head attention and an exact
 * GELU MLP, a final layernorm, and a linear classifier on the class token. Parameters carry their
 * Hugging Face names (`vit.encoder.layer.0.attention.attention.query.weight`, torch layout [out, in]),
 * but for the packed q|k|v projection of `{ qkv: 'packed' }` (`VitOptions.qkv`).
 *
 * @example
 * const model = new VitModel(VIT_PRESETS['vit-tiny']);
 * const fast = new VitModel(VIT_PRESETS['vit-tiny'], { qkv: 'packed' }); // one q|k|v product a block
 * const logits = model.logits(pixels); // pixels [B, 3, 32, 32] -> [B, 10]
 * const losses = model.perSampleLoss(pixels, labels); // [B] cross-entropy per image
 */
export class VitModel {
  readonly config: ResolvedVitConfig;
  readonly patch: Conv2d;
  readonly cls: ClassToken;
  readonly positions: PositionalEmbedding;
  readonly blocks: Block[];
  readonly lnF: LayerNorm;
  readonly classifier: Linear;
  /** How the blocks hold q, k and v (`VitOptions.qkv`). */
  readonly qkvLayout: VitQkvLayout;
  /** Every parameter of the model itself (what `savePretrained` writes, a packed q|k|v as its three tensors), trainable or frozen; LoRA adapters are not in it. */
  readonly params: ParamSpec[];

  constructor(config: VitConfig, options: VitOptions = {}) {
    this.config = validateVitConfig(config);
    this.qkvLayout = options.qkv ?? 'separate';
    if (this.qkvLayout !== 'separate' && this.qkvLayout !== 'packed') {
      throw new ClipwiseModelError(`VitModel: qkv must be 'separate' or 'packed', got '${String(this.qkvLayout)}'`);
    }
    const { hidden_size: d, num_hidden_layers: layers, intermediate_size: inner, patch_size: p, num_channels: channels } = this.config;
    const eps = this.config.layer_norm_eps ?? 1e-12;
    const qkvBias = this.config.qkv_bias ?? true;
    const tokens = (this.config.image_size / p) ** 2 + 1;
    let seed = options.seed ?? 0;
    const init = (std = 0.02) => normalInit(std, seed++);
    const e = 'vit.embeddings';
    this.patch = new Conv2d({ name: `${e}.patch_embeddings.projection`, inChannels: channels, outChannels: d, kernelSize: p, stride: p, inputGrad: false, weightInit: init() });
    this.cls = new ClassToken({ name: `${e}.cls_token`, dim: d, init: init() });
    this.positions = new PositionalEmbedding({
      name: `${e}.position_embeddings`,
      weightName: `${e}.position_embeddings`,
      maxPositions: tokens,
      dim: d,
      paramShape: [1, tokens, d],
      init: init(),
    });
    this.blocks = Array.from({ length: layers }, (_, i) => {
      const b = `vit.encoder.layer.${i}`;
      const linear = (name: string, inFeatures: number, outFeatures: number, bias = true) =>
        new Linear({ name: `${b}.${name}`, inFeatures, outFeatures, bias, layout: 'out_in', weightInit: init() });
      const lnBefore = new LayerNorm({ name: `${b}.layernorm_before`, dim: d, eps });
      const attnIn: QkvProjections =
        this.qkvLayout === 'packed'
          ? { qkv: linear('attention.attention.qkv', d, 3 * d, qkvBias) }
          : { query: linear('attention.attention.query', d, d, qkvBias), key: linear('attention.attention.key', d, d, qkvBias), value: linear('attention.attention.value', d, d, qkvBias) };
      return {
        lnBefore,
        attnIn,
        attnOut: linear('attention.output.dense', d, d),
        lnAfter: new LayerNorm({ name: `${b}.layernorm_after`, dim: d, eps }),
        fc: linear('intermediate.dense', d, inner),
        proj: linear('output.dense', inner, d),
      };
    });
    this.lnF = new LayerNorm({ name: 'vit.layernorm', dim: d, eps });
    this.classifier = new Linear({ name: 'classifier', inFeatures: d, outFeatures: this.config.num_labels, layout: 'out_in', weightInit: init() });
    this.params = collectParams(this.layers);
  }

  /** Every DP-aware layer, in forward order, LoRA adapters' layers right after their base layer. */
  get layers(): DPLayer[] {
    return withAdapterLayers([
      this.patch,
      this.cls,
      this.positions,
      ...this.blocks.flatMap((b) => [b.lnBefore, ...('qkv' in b.attnIn ? [b.attnIn.qkv] : [b.attnIn.query, b.attnIn.key, b.attnIn.value]), b.attnOut, b.lnAfter, b.fc, b.proj]),
      this.lnF,
      this.classifier,
    ]);
  }

  /** The parameters that train: `params` less the frozen ones, plus LoRA adapters' (what the private step, grouping and optimizer take). */
  get trainableParams(): ParamSpec[] {
    return collectParams(this.layers);
  }

  /** Logits [B, num_labels] for float32 pixel values [B, C, H, W] (NCHW, as Hugging Face's image processor gives them). */
  logits(pixelValues: tf.Tensor4D): tf.Tensor2D {
    const { num_channels: c, image_size: s, num_attention_heads: heads } = this.config;
    const [b, ch, h, w] = pixelValues.shape;
    if (pixelValues.rank !== 4 || ch !== c || h !== s || w !== s) {
      throw new ClipwiseModelError(`ViT: expected pixel values [B, ${c}, ${s}, ${s}] (NCHW), got [${pixelValues.shape}]`);
    }
    return tf.tidy(() => {
      const d = this.config.hidden_size;
      const conv = this.patch.apply(pixelValues);
      const patches = tf.reshape(conv, [b!, -1, d]); // NHWC -> [B, N, d], row-major patches
      const tokens = this.cls.apply(patches);
      let x = this.positions.apply(tokens) as tf.Tensor3D;
      tf.dispose([conv, patches, tokens]);
      for (const blk of this.blocks) {
        // each intermediate is freed at its last use, not when the forward pass ends (what backward
        // needs, every op saved as a handle of its own): see Gpt2Model.logits
        const n = blk.lnBefore.apply(x);
        const ctx = this.attend(blk.attnIn, n, heads);
        // x + attnOut(ctx), the add in the projection's launch
        const x1 = blk.attnOut.applyPlus(ctx, x) as tf.Tensor3D;
        tf.dispose([n, ctx, x]);
        x = residualMlp(x1, blk.lnAfter, blk.fc, 'geluErf', blk.proj);
      }
      const clsOut = tf.reshape(tf.slice(this.lnF.apply(x), [0, 0, 0], [-1, 1, -1]), [b!, d]);
      return this.classifier.apply(clsOut) as tf.Tensor2D;
    });
  }

  /** Bidirectional multi-head attention of the normalised input `n` [B, T, d] through the block's projections. */
  private attend(p: QkvProjections, n: tf.Tensor, heads: number): tf.Tensor3D {
    if ('qkv' in p) {
      const qkv = p.qkv.apply(n) as tf.Tensor3D;
      const ctx = attentionPacked(qkv, { heads, causal: false });
      qkv.dispose();
      return ctx;
    }
    const [q, k, v] = [p.query, p.key, p.value].map((l) => l.apply(n) as tf.Tensor3D) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const ctx = multiHeadAttention(q, k, v, heads, false);
    tf.dispose([q, k, v]);
    return ctx;
  }

  /** Per-sample cross-entropy [B] for pixel values [B, C, H, W] and int32 labels [B] in [0, num_labels). */
  perSampleLoss(pixelValues: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor1D {
    const b = pixelValues.shape[0];
    if (labels.rank !== 1 || labels.shape[0] !== b || labels.dtype !== 'int32') {
      throw new ClipwiseModelError(`ViT: expected int32 labels [${b}], got ${labels.dtype} [${labels.shape}]`);
    }
    return tf.tidy(() => {
      const logits = tf.expandDims(this.logits(pixelValues), 1) as tf.Tensor3D;
      return perSampleCrossEntropy(logits, tf.reshape(labels, [b, 1]) as tf.Tensor2D);
    });
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
