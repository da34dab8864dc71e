import * as tf from '@tensorflow/tfjs-core';
import { Embedding, LayerNorm, Linear, PositionalEmbedding, attentionPacked, bindingLimitBytes, collectParams, normalInit, tokenNll, withAdapterLayers, type DPLayer, type ParamSpec } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { residualMlp } from '../common/residual-mlp.js';
import { maskedPerSample } from '../common/losses.js';
import { validateGpt2Config, type Gpt2Config } from './gpt2-config.js';

interface Block {
  ln1: LayerNorm;
  attn: Linear;
  attnProj: Linear;
  ln2: LayerNorm;
  fc: Linear;
  proj: Linear;
}

export interface Gpt2Options {
  /** Seed of the random initialisation. */
  seed?: number;
  /**
   * Largest logits tensor `perSampleLoss` makes, in bytes (default: the backend's largest binding,
   * `bindingLimitBytes()`: about 2 GiB on webgpu, no limit elsewhere). Past it the LM head and the
   * loss run on spans of positions, each span's logits [B, span, V] under the limit.
   */
  logitsLimitBytes?: number;
}

/**
 * GPT-2 (`GPT2LMHeadModel` semantics) on DP-aware layers: token + learned position embeddings,
 * pre-LN blocks with causal multi-head attention and a `gelu_new` MLP, final layernorm, LM head
 * tied to the token embedding. Parameters carry their Hugging Face names
 * (`transformer.h.0.attn.c_attn.weight`, Conv1D layout [in, out]).
 *
 * @example
 * const model = new Gpt2Model(GPT2_PRESETS['gpt2-tiny']);
 * const losses = model.perSampleLoss(ids); // [B] mean next-token cross-entropy per sequence
 */
export class Gpt2Model {
  readonly config: Gpt2Config;
  readonly wte: Embedding;
  readonly wpe: PositionalEmbedding;
  readonly blocks: Block[];
  readonly lnF: LayerNorm;
  readonly head: Linear;
  /** Every parameter of the model itself (what `savePretrained` writes), trainable or frozen; LoRA adapters are not in it. */
  readonly params: ParamSpec[];
  private readonly logitsLimit: number | undefined;
  private spansOverride: number | null = null;

  constructor(config: Gpt2Config, options: Gpt2Options = {}) {
    this.config = validateGpt2Config(config);
    if (options.logitsLimitBytes !== undefined && !(options.logitsLimitBytes > 0)) {
      throw new ClipwiseModelError(`Gpt2Model: logitsLimitBytes must be a positive number of bytes, got ${options.logitsLimitBytes}`);
    }
    this.logitsLimit = options.logitsLimitBytes;
    const { n_embd: d, n_layer: layers, vocab_size: vocab, n_positions: positions } = this.config;
    const eps = this.config.layer_norm_epsilon ?? 1e-5;
    const inner = this.config.n_inner ?? 4 * d;
    let seed = options.seed ?? 0;
    const init = (std = 0.02) => normalInit(std, seed++);
    // GPT-2 scales the residual projections by 1/sqrt(2·n_layer)
    const residualStd = 0.02 / Math.sqrt(2 * layers);
    this.wte = new Embedding({ name: 'transformer.wte', numEmbeddings: vocab, dim: d, init: init() });
    this.wpe = new PositionalEmbedding({ name: 'transformer.wpe', maxPositions: positions, dim: d, init: init(0.01) });
    this.blocks = Array.from({ length: layers }, (_, i) => {
      const p = `transformer.h.${i}`;
      return {
        ln1: new LayerNorm({ name: `${p}.ln_1`, dim: d, eps }),
        attn: new Linear({ name: `${p}.attn.c_attn`, inFeatures: d, outFeatures: 3 * d, layout: 'in_out', weightInit: init() }),
        attnProj: new Linear({ name: `${p}.attn.c_proj`, inFeatures: d, outFeatures: d, layout: 'in_out', weightInit: init(residualStd) }),
        ln2: new LayerNorm({ name: `${p}.ln_2`, dim: d, eps }),
        fc: new Linear({ name: `${p}.mlp.c_fc`, inFeatures: d, outFeatures: inner, layout: 'in_out', weightInit: init() }),
        proj: new Linear({ name: `${p}.mlp.c_proj`, inFeatures: inner, outFeatures: d, layout: 'in_out', weightInit: init(residualStd) }),
      };
    });
    this.lnF = new LayerNorm({ name: 'transformer.ln_f', dim: d, eps });
    this.head = new Linear({ name: 'lm_head', inFeatures: d, outFeatures: vocab, bias: false, layout: 'out_in', tiedWeight: this.wte.weight });
    this.params = collectParams(this.layers);
  }

  /** Every DP-aware layer, in forward order, LoRA adapters' layers right after their base layer. */
  get layers(): DPLayer[] {
    return withAdapterLayers([this.wte, this.wpe, ...this.blocks.flatMap((b) => [b.ln1, b.attn, b.attnProj, b.ln2, b.fc, b.proj]), this.lnF, this.head]);
  }

  /** The parameters that train: `params` less the frozen ones, plus LoRA adapters' (what the private step, grouping and optimizer take). */
  get trainableParams(): ParamSpec[] {
    return collectParams(this.layers);
  }

  /** Logits [B, T, vocab] for int32 ids [B, T]. */
  logits(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.head.apply(this.hidden(ids)) as tf.Tensor3D);
  }

  /** The final layer norm's output [B, T, d] for int32 ids [B, T]: what the LM head reads. */
  hidden(ids: tf.Tensor2D): tf.Tensor3D {
    const [, t] = ids.shape;
    if (t > this.config.n_positions) throw new RangeError(`sequence length ${t} exceeds n_positions ${this.config.n_positions}`);
    return tf.tidy(() => {
      // Each intermediate is freed at its last use, not when the forward pass ends: what backward
      // needs, every op has saved as a handle of its own, and the residual sums save nothing
      // (Linear.applyPlus), so the residual stream, normalised inputs and sums a block leaves behind are
      // no longer held through the whole forward pass.
      const e = this.wte.apply(ids);
      let h = this.wpe.apply(e) as tf.Tensor3D;
      e.dispose();
      for (const b of this.blocks) {
        const n1 = b.ln1.apply(h);
        const qkv = b.attn.apply(n1) as tf.Tensor3D;
        // q|k|v read in place per head (fused on webgpu): no split, transposes or concat
        const ctx = attentionPacked(qkv, { heads: this.config.n_head, causal: true });
        // h + attnProj(ctx), the add in the projection's launch
        const h1 = b.attnProj.applyPlus(ctx, h) as tf.Tensor3D;
        tf.dispose([n1, qkv, ctx, h]);
        h = residualMlp(h1, b.ln2, b.fc, 'geluTanh', b.proj);
      }
      const nf = this.lnF.apply(h) as tf.Tensor3D;
      h.dispose();
      return nf;
    });
  }

  /**
   * Per-sample language-modelling loss [B]: next-token cross-entropy, averaged over each
   * sequence's predicted positions (`mask` [B, T] selects the target tokens to score, e.g. only
   * the reference of an E2E pair; position t predicts token t+1).
   */
  perSampleLoss(ids: tf.Tensor2D, mask?: tf.Tensor2D, reduction: 'mean' | 'sum' = 'mean'): tf.Tensor1D {
    return tf.tidy(() => {
      const [b, t] = ids.shape;
      if (t < 2) throw new RangeError(`perSampleLoss: next-token loss needs sequences of ≥ 2 tokens, got ${t}`);
      // Every position's logits with the last one masked out, rather than a slice of the logits: the
      // slice (and its gradient, a pad) copied [B, T−1, V] twice, 400 MB each for GPT-2 at B16×T128.
      const shifted = (x: tf.Tensor2D) => tf.concat([x.slice([0, 1], [b, t - 1]), tf.zeros([b, 1], x.dtype)], 1) as tf.Tensor2D;
      let m: tf.Tensor2D;
      if (mask) {
        m = shifted(tf.cast(mask, 'float32') as tf.Tensor2D); // its last position is the padded 0
      } else {
        const scored = new Float32Array(b * t).fill(1);
        for (let i = 0; i < b; i++) scored[i * t + t - 1] = 0;
        m = tf.tensor2d(scored, [b, t]);
      }
      return maskedPerSample(this.tokenNll(ids, shifted(ids)), m, reduction);
    });
  }

  /**
   * Bytes of the float32 logits of `batch` samples × `positions` positions, the tensor the logits limit
   * bounds (past it the head runs in spans of positions).
   *
   * @example
   * const spans = model.logitsBytes(16, 1024) > bindingLimitBytes(); // GPT-2 small: 3.3 GB, split on webgpu
   */
  logitsBytes(batch: number, positions: number): number {
    return 4 * batch * positions * this.config.vocab_size;
  }

  /**
   * How many spans of positions `perSampleLoss` splits the LM head and the loss into for a batch of
   * `batch` sequences of `positions` tokens: 1 while their logits stay under the logits limit
   * (`Gpt2Options.logitsLimitBytes`), else the fewest spans of near-equal length that each do. Throws
   * where one position's logits for the batch pass the limit.
   *
   * @example
   * new Gpt2Model(GPT2_PRESETS.gpt2).logitsSpanCount(18, 1024); // 2 on webgpu (3.5 GiB of logits)
   */
  logitsSpanCount(batch: number, positions: number): number {
    const limit = this.logitsLimit ?? bindingLimitBytes();
    const perPosition = this.logitsBytes(batch, 1);
    if (perPosition * positions <= limit) return 1;
    const longest = Math.floor(limit / perPosition);
    if (longest < 1) {
      throw new ClipwiseModelError(`Gpt2Model: one position's logits for a batch of ${batch} (${perPosition} bytes, vocabulary ${this.config.vocab_size}) pass the logits limit of ${limit} bytes; use a smaller (micro-)batch`);
    }
    return Math.ceil(positions / longest);
  }

  /**
   * Runs the LM head and the loss on `spans` spans of positions whatever the batch (clamped to the
   * sequence length), or by the logits limit again (null). For memory models: a step's tape traced at
   * batch 1 and 2 with the span count of a larger batch has that batch's structure, scaled down.
   *
   * @example
   * model.setLogitsSpans(model.logitsSpanCount(18, 1024)); // trace at batch 1 and 2 as batch 18 runs
   * model.setLogitsSpans(null);
   */
  setLogitsSpans(spans: number | null): void {
    if (spans !== null && !(Number.isInteger(spans) && spans >= 1)) throw new ClipwiseModelError(`Gpt2Model: logits spans must be a positive integer or null, got ${spans}`);
    this.spansOverride = spans;
  }

  /**
   * Next-token losses [B, T] (position t scored against `labels` t). Where the logits [B, T, V] would
   * pass the logits limit (`Gpt2Options.logitsLimitBytes`), the LM head and the loss run on spans of
   * positions of near-equal length, each a use of the tied head weight: the per-sample norms add the
   * spans' cross terms as for any tied weight, and backward keeps the same bytes as one head would.
   */
  private tokenNll(ids: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor2D {
    const [b, t] = ids.shape;
    const spans = Math.min(t, this.spansOverride ?? this.logitsSpanCount(b, t));
    if (spans === 1) return tokenNll(this.logits(ids), labels) as tf.Tensor2D;
    const span = Math.ceil(t / spans);
    const nf = this.hidden(ids);
    const d = nf.shape[2];
    const parts: tf.Tensor[] = [];
    for (let t0 = 0; t0 < t; t0 += span) {
      const len = Math.min(span, t - t0);
      const z = this.head.apply(tf.slice(nf, [0, t0, 0], [b, len, d])) as tf.Tensor3D;
      parts.push(tokenNll(z, tf.slice(labels, [0, t0], [b, len])));
    }
    return tf.concat(parts, 1) as tf.Tensor2D;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
