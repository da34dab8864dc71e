import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';
import type { DPLayer } from './dp-layer';
import { Linear, type LinearAdapter } from './linear';
import { zerosInit, type Initializer } from './param';

export interface LoraOptions {
  /** Rank r of the update (a positive integer). */
  rank: number;
  /** α: the update is scaled by α/r (α/sqrt(r) with `rsLora`). Default r (scaling 1). */
  alpha?: number;
  /** Rank-stabilised scaling α/sqrt(r) (Kalajdzievski 2023; peft's `use_rslora`). Default false. */
  rsLora?: boolean;
  /** Name prefix of the two layers: `${prefix}.lora_A`, `${prefix}.lora_B`; default the base layer's name. */
  prefix?: string;
  /** Seed of A's initialisation. */
  seed?: number;
  /** Default U(−1/sqrt(in), 1/sqrt(in)) (peft's kaiming-uniform bound); B starts at zero, so the adapter starts as a no-op. */
  aInit?: Initializer;
  bInit?: Initializer;
}

/**
 * Throws a `ClipwiseConfigError` unless `rank` is a positive integer and `alpha` (when given) a
 * positive finite number; `what` starts the message ("LoRA", "LoRA on h.0.attn.c_attn:").
 */
export function checkLoraSize(rank: number, alpha: number | undefined, what: string): void {
  if (!Number.isInteger(rank) || rank <= 0) throw new ClipwiseConfigError(`${what} rank must be a positive integer, got ${rank}`);
  if (alpha !== undefined && (!(alpha > 0) || !Number.isFinite(alpha))) throw new ClipwiseConfigError(`${what} alpha must be a positive number, got ${alpha}`);
}

/**
 * LoRA (Hu et al. 2021) on a linear layer: `y = x W + b + (α/r) · (x Aᵀ) Bᵀ`, with A [r, in] and
 * B [out, r] (torch `nn.Linear` layout, as peft stores them, whatever the base's layout). A and B are
 * two ordinary DP-aware `Linear` layers without bias, so their per-sample norms (ghost or
 * instantiated) and Book-Keeping clipped sums are the linear kernel's: A's record is
 * (x, (α/r)·dy B), B's is ((α/r)·x Aᵀ, dy). Attach it with `base.setAdapter(lora)`; freeze the
 * base's parameters to train the adapter alone.
 *
 * @example
 * const lora = new LoraAdapter(fc, { rank: 4, alpha: 8 });
 * fc.setAdapter(lora);
 * fc.weight.variable.trainable = false; // the base stays frozen; lora.layers train
 */
export class LoraAdapter implements LinearAdapter {
  readonly a: Linear;
  readonly b: Linear;
  readonly rank: number;
  readonly alpha: number;
  /** Whether the scaling is α/sqrt(r) (peft's `use_rslora`) rather than α/r. */
  readonly rsLora: boolean;
  /** α/r, or α/sqrt(r) with rsLora. */
  readonly scaling: number;

  constructor(
    readonly base: Linear,
    options: LoraOptions,
  ) {
    const { rank } = options;
    checkLoraSize(rank, options.alpha, `LoRA on ${base.name}:`);
    this.rank = rank;
    this.alpha = options.alpha ?? rank;
    this.rsLora = options.rsLora ?? false;
    this.scaling = this.rsLora ? this.alpha / Math.sqrt(rank) : this.alpha / rank;
    const prefix = options.prefix ?? base.name;
    const bound = 1 / Math.sqrt(base.inFeatures);
    const seed = options.seed;
    // between the base and the next layer in forward order: A runs after the base, B after A
    this.a = new Linear({
      name: `${prefix}.lora_A`, inFeatures: base.inFeatures, outFeatures: rank, bias: false, layout: 'out_in', order: base.order + 0.25,
      weightInit: options.aInit ?? ((shape) => tf.randomUniform(shape, -bound, bound, 'float32', seed === undefined ? undefined : seed + 1)),
      device: base.weight.device,
    });
    this.b = new Linear({
      name: `${prefix}.lora_B`, inFeatures: rank, outFeatures: base.outFeatures, bias: false, layout: 'out_in', order: base.order + 0.5,
      weightInit: options.bInit ?? zerosInit, device: base.weight.device,
    });
  }

  get layers(): readonly DPLayer[] {
    return [this.a, this.b];
  }

  apply(x: tf.Tensor): tf.Tensor {
    // the scaling on A's narrow output [.., r], not on B's [.., out]: the tape keeps a multiply's
    // inputs, and a full-width one per adapted layer was a third more peak memory on GPT-2 mini
    const h = this.a.apply(x);
    return this.b.apply(this.scaling === 1 ? h : tf.mul(h, this.scaling));
  }

  /** The update of the base weight in the base's layout: (α/r)·B A ([out, in]), transposed for 'in_out' (fan_in_fan_out). */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const ba = tf.mul(tf.matMul(this.b.weight.variable, this.a.weight.variable), this.scaling) as tf.Tensor2D;
      return this.base.layout === 'in_out' ? tf.transpose(ba) : ba;
    });
  }

  /** Frees A and B. */
  dispose(): void {
    this.a.dispose();
    this.b.dispose();
  }

  /** Takes the adapter off its base layer (which runs as it was) and frees A and B. */
  detach(): void {
    if (this.base.adapter === this) this.base.setAdapter(null);
    this.dispose();
  }
}

/** `layers` with each linear layer's adapter layers right after it (what `collectParams` needs to see them). */
export function withAdapterLayers(layers: readonly DPLayer[]): DPLayer[] {
  return layers.flatMap((l) => (l instanceof Linear && l.adapter ? [l, ...l.adapter.layers] : [l]));
}
