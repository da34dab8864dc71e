import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';
import type { ParamSpec } from '../types';
import { DPLayer, asBatchSeq } from './dp-layer';
import { createParam, nextLayerOrder, normalInit, zerosInit, type Initializer } from './param';
import { addResidual } from '../residual-add';
import { matMulActivation, matMulPlusResidual } from '../fused/matmul-residual';
import { activationGrad, applyActivation, type FusedActivation } from '../fused/gelu';
import { fusedOnDevice } from '../fused/fused-kernels';
import { matmulShape } from '../webgpu/matmul/matmul-kernel';
import { activeRecording } from '../record/recording';

/** 'in_out': weight [in, out], y = x W (GPT-2's Conv1D). 'out_in': weight [out, in], y = x Wᵀ (torch nn.Linear). */
export type WeightLayout = 'in_out' | 'out_in';

export interface LinearOptions {
  name: string;
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
  /** Default 'out_in' (torch nn.Linear). */
  layout?: WeightLayout;
  /** Share an existing parameter as the weight (e.g. GPT-2's LM head tied to the token embedding). */
  tiedWeight?: ParamSpec;
  weightInit?: Initializer;
  biasInit?: Initializer;
  /** Parameter names; default `${name}.weight` / `${name}.bias`. */
  weightName?: string;
  biasName?: string;
  device?: string;
  /**
   * Position in forward order; default the next one (layers are numbered as they are built). An
   * adapter built after its model passes a number just after its base layer's (`LoraAdapter`).
   */
  order?: number;
}

/**
 * Something added to a linear layer's output, `y = x W + b + adapter(x)`, built from DP-aware layers
 * of its own (`LoraAdapter`): their records are clipped like any other layer's.
 */
export interface LinearAdapter {
  /** The adapter's output for the base layer's input `x` ([B, ..., in] → [B, ..., out]). */
  apply(x: tf.Tensor): tf.Tensor;
  /** Its DP-aware layers, in forward order. */
  readonly layers: readonly DPLayer[];
}

/**
 * A DP-aware dense layer over the last axis of an input of any rank ≥ 2 (`[B, ..., in]`).
 * Its record holds `a` = the input as [B, T, in] and `dy` as [B, T, out].
 *
 * @example
 * const fc = new Linear({ name: 'fc', inFeatures: 8, outFeatures: 4 });
 * const y = fc.apply(tf.ones([2, 5, 8])); // [2, 5, 4]
 */
export class Linear extends DPLayer {
  readonly kind = 'linear';
  readonly weight: ParamSpec;
  readonly bias: ParamSpec | null;
  readonly layout: WeightLayout;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly tied: boolean;
  private attached: LinearAdapter | null = null;

  constructor(options: LinearOptions) {
    super(options.name, options.order ?? nextLayerOrder());
    const { inFeatures, outFeatures } = options;
    if (!(inFeatures > 0 && outFeatures > 0) || !Number.isInteger(inFeatures) || !Number.isInteger(outFeatures)) {
      throw new ClipwiseConfigError(`Linear ${options.name}: inFeatures/outFeatures must be positive integers, got ${inFeatures}/${outFeatures}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.layout = options.layout ?? 'out_in';
    const shape = this.layout === 'in_out' ? [inFeatures, outFeatures] : [outFeatures, inFeatures];
    if (options.tiedWeight) {
      if (options.tiedWeight.shape.join(',') !== shape.join(',')) {
        throw new ClipwiseConfigError(
          `Linear ${options.name}: tied weight ${options.tiedWeight.name} has shape [${options.tiedWeight.shape}], ` +
            `layout '${this.layout}' needs [${shape}]`,
        );
      }
      this.weight = options.tiedWeight;
      this.tied = true;
    } else {
      this.weight = createParam({
        name: options.weightName ?? `${options.name}.weight`,
        layer: options.name,
        kind: this.kind,
        role: 'weight',
        shape,
        init: options.weightInit ?? normalInit(0.02),
        order: this.order,
        device: options.device,
      });
      this.tied = false;
    }
    this.bias =
      options.bias === false
        ? null
        : createParam({
            name: options.biasName ?? `${options.name}.bias`,
            layer: options.name,
            kind: this.kind,
            role: 'bias',
            shape: [outFeatures],
            init: options.biasInit ?? zerosInit,
            order: this.order,
            device: options.device,
          });
  }

  get paramsByRole(): Record<string, ParamSpec> {
    return this.bias ? { weight: this.weight, bias: this.bias } : { weight: this.weight };
  }

  ownParams(): ParamSpec[] {
    return [...(this.tied ? [] : [this.weight]), ...(this.bias ? [this.bias] : [])];
  }

  /** The adapter added to this layer's output, or null. */
  get adapter(): LinearAdapter | null {
    return this.attached;
  }

  /** Adds `adapter(x)` to this layer's output from now on (null removes it). The adapter's layers stay the caller's to dispose. */
  setAdapter(adapter: LinearAdapter | null): void {
    if (adapter && this.tied) throw new ClipwiseConfigError(`Linear ${this.name}: its weight is tied to ${this.weight.name}; an adapter on a tied layer is not supported`);
    this.attached = adapter;
  }

  apply(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures || x.rank < 2) {
      throw new ClipwiseConfigError(`Linear ${this.name}: expected input [B, ..., ${this.inFeatures}], got [${x.shape}]`);
    }
    const adapter = this.attached;
    // with an adapter, its output and the base's are freed once summed (addResidual saves no input
    // for its gradient; TF.js's Add would save both): two fewer full-width tensors alive per adapted
    // layer until the caller's tidy ends
    if (adapter) return tf.tidy(() => addResidual(this.applyBase(x), adapter.apply(x)));
    return this.applyBase(x);
  }

  /**
   * residual + (x W + b): a residual connection's add in the product's launch (webgpu), where
   * `addResidual(residual, layer.apply(x))` took two. The same values and gradients (the residual's
   * is dy); the record is the layer's own.
   *
   * @example
   * h = mlp.proj.applyPlus(gelu(mlp.fc.apply(ln2.apply(h))), h); // h + proj(…)
   */
  applyPlus(x: tf.Tensor, residual: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures || x.rank < 2) {
      throw new ClipwiseConfigError(`Linear ${this.name}: expected input [B, ..., ${this.inFeatures}], got [${x.shape}]`);
    }
    const out = [...x.shape.slice(0, -1), this.outFeatures];
    if (residual.shape.join(',') !== out.join(',') || residual.dtype !== 'float32') {
      throw new ClipwiseConfigError(`Linear ${this.name}: the residual must be float32 [${out}] (the output's shape), got ${residual.dtype} [${residual.shape}]`);
    }
    const adapter = this.attached;
    if (adapter) return tf.tidy(() => addResidual(this.applyBase(x, residual), adapter.apply(x)));
    return this.applyBase(x, residual);
  }

  /**
   * act(x W + b), the activation in the matmul's epilogue in a recorded step on webgpu (one launch
   * where the product and the GELU were two). The same values, input gradient and record as
   * `act(layer.apply(x))`: the record's dy is the pre-activation's gradient. Elsewhere, and with an
   * adapter (whose output joins before the activation), it is `act(layer.apply(x))`.
   *
   * @example
   * const g = mlp.fc.applyAct(ln2.apply(h), 'geluTanh'); // gelu(h W + b)
   */
  applyAct(x: tf.Tensor, act: FusedActivation): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures || x.rank < 2) {
      throw new ClipwiseConfigError(`Linear ${this.name}: expected input [B, ..., ${this.inFeatures}], got [${x.shape}]`);
    }
    const rows = x.size / this.inFeatures;
    const product = { a: { shape: [rows, this.inFeatures], dtype: 'float32' } as unknown as tf.TensorInfo, b: this.weight.variable, transposeA: false, transposeB: this.layout === 'out_in', bias: this.bias?.variable ?? null };
    if (this.attached || !fusedOnDevice() || activeRecording() === null || x.dtype !== 'float32' || !matmulShape(product)) {
      return tf.tidy(() => applyActivation(act, this.apply(x)));
    }
    const shape = [...x.shape.slice(0, -1), this.outFeatures];
    return this.recorded(
      x,
      (input, save) => {
        const x2 = input!.reshape([-1, this.inFeatures]) as tf.Tensor2D;
        // written in the layer's shape: no reshape after it (TF.js counts a reshape's view as bytes of its own)
        const m = matMulActivation(x2, this.weight.variable as tf.Tensor2D, { transposeB: this.layout === 'out_in', bias: this.bias?.variable, act, outShape: shape });
        x2.dispose();
        if (!m) throw new Error(`Linear ${this.name}: the fused activation's product was refused`);
        const { y, h } = m;
        // the pre-activation for the activation's backward; the input for the weight's record
        save(this.trains('weight') ? [input!, h] : [h]);
        h.dispose();
        return y;
      },
      (dg, saved) => {
        const [a, h] = this.trains('weight') ? saved : [undefined, saved[0]];
        // dy of the product: the activation's backward, one launch
        const dy = activationGrad(act, h!, dg);
        const w = this.weight.variable;
        const dx = this.layout === 'in_out' ? tf.matMul(dy, w, false, true) : tf.matMul(dy, w);
        return {
          dx,
          record: { ...(a ? { activation: asBatchSeq(a) } : {}), gradOutput: asBatchSeq(dy), attrs: { layout: this.layout } },
        };
      },
    );
  }

  /** x W + b (+ residual) as a recorded op. */
  private applyBase(x: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    return this.recorded(
      x,
      (input, save, r) => {
        // a frozen weight needs no activation in its record: dx = dy Wᵀ does not read the input
        save(this.trains('weight') ? [input!] : []);
        return this.forward(input!, r);
      },
      (dy, [a]) => {
        const w = this.weight.variable;
        // dy [B, ..., out] times the shared weight: one batched product, no reshapes around it
        const dx = this.layout === 'in_out' ? tf.matMul(dy, w, false, true) : tf.matMul(dy, w);
        return {
          dx,
          record: { ...(a ? { activation: asBatchSeq(a) } : {}), gradOutput: asBatchSeq(dy), attrs: { layout: this.layout } },
        };
      },
      residual,
    );
  }

  private forward(x: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x2 = x.reshape([-1, this.inFeatures]) as tf.Tensor2D;
      const w = this.weight.variable as tf.Tensor2D;
      const transposeB = this.layout === 'out_in';
      // bias (and, in a recorded step, a residual) in the matmul's epilogue: one launch instead of two
      // (three). The fused residual kernel has no TF.js gradient: outside this layer's own backward
      // (tf.grad of a plain forward, the brute-force references) the add is TF.js's.
      const shape = [...x.shape.slice(0, -1), this.outFeatures];
      if (residual && activeRecording() !== null) {
        return matMulPlusResidual(x2, w, { transposeB, bias: this.bias?.variable, residual, outShape: shape });
      }
      const y = tf.fused.matMul({ a: x2, b: w, transposeB, bias: this.bias?.variable }).reshape(shape);
      return residual ? tf.add(residual, y) : y;
    });
  }
}
