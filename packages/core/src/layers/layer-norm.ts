import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';
import { fusedOnDevice, runRow } from '../fused/fused-kernels';
import { layerNormForward } from '../fused/layer-norm-forward';
import { takeAccumulatedGradient } from '../backward/accumulated-gradient';
import { activeRecording } from '../record/recording';
import type { ParamSpec } from '../types';
import { DPLayer, asBatchSeq } from './dp-layer';
import { createParam, nextLayerOrder, onesInit, zerosInit } from './param';

export interface LayerNormOptions {
  name: string;
  dim: number;
  /** Default 1e-5 (GPT-2); ViT uses 1e-12. */
  eps?: number;
  /** Names of γ and β; default `${name}.weight` / `${name}.bias` (Hugging Face). */
  weightName?: string;
  biasName?: string;
  device?: string;
}

/**
 * DP-aware layer normalisation over the last axis, y = x̂ ⊙ γ + β. Its record holds x̂ ([B, T, d])
 * and dy ([B, T, d]); per-sample gradients are Σ_t dy ⊙ x̂ (γ) and Σ_t dy (β).
 *
 * @example
 * const ln = new LayerNorm({ name: 'ln_1', dim: 16 });
 * const y = ln.apply(tf.randomNormal([2, 3, 16]));
 */
export class LayerNorm extends DPLayer {
  readonly kind = 'layernorm';
  readonly gamma: ParamSpec;
  readonly beta: ParamSpec;
  readonly eps: number;

  constructor(readonly options: LayerNormOptions) {
    super(options.name, nextLayerOrder());
    if (!(options.dim > 0)) throw new ClipwiseConfigError(`LayerNorm ${options.name}: dim must be positive, got ${options.dim}`);
    this.eps = options.eps ?? 1e-5;
    const common = { layer: options.name, kind: this.kind, shape: [options.dim], order: this.order, device: options.device };
    this.gamma = createParam({ ...common, name: options.weightName ?? `${options.name}.weight`, role: 'weight', init: onesInit });
    this.beta = createParam({ ...common, name: options.biasName ?? `${options.name}.bias`, role: 'bias', init: zerosInit });
  }

  get paramsByRole(): Record<string, ParamSpec> {
    return { weight: this.gamma, bias: this.beta };
  }

  ownParams(): ParamSpec[] {
    return [this.gamma, this.beta];
  }

  apply(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.options.dim) {
      throw new ClipwiseConfigError(`LayerNorm ${this.name}: expected last dim ${this.options.dim}, got [${x.shape}]`);
    }
    // fused kernels have no TF.js gradient: only where this layer's own backward runs (a recorded step) or none is needed
    const fused = fusedOnDevice() && activeRecording() !== null;
    return this.recorded(
      x,
      (input, save) =>
        tf.tidy(() => {
          if (fused) {
            // y, x̂ and rstd in one launch
            const { y, xhat, rstd } = layerNormForward(input!, this.gamma.variable, this.beta.variable, this.eps);
            save([xhat, rstd]);
            return y;
          }
          const { xhat, rstd } = this.normalise(input!);
          save([xhat, rstd]);
          return tf.add(tf.mul(xhat, this.gamma.variable), this.beta.variable);
        }),
      (dy, [xhat, rstd]) => {
        // a pre-LN block's input also feeds the residual connection, whose gradient arrived first:
        // added in the same launch (the pass then adds nothing)
        const dx = fused ? this.inputGradFused(dy, xhat!, rstd!, takeAccumulatedGradient(x)) : this.inputGrad(dy, xhat!, rstd!);
        // β alone (BiTFiT) needs only dy: no x̂ in the record
        return { dx, record: { ...(this.trains('weight') ? { activation: asBatchSeq(xhat!) } : {}), gradOutput: asBatchSeq(dy), attrs: {} } };
      },
    );
  }

  private normalise(x: tf.Tensor): { xhat: tf.Tensor; rstd: tf.Tensor } {
    const { mean, variance } = tf.moments(x, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, this.eps));
    return { xhat: tf.mul(tf.sub(x, mean), rstd), rstd };
  }

  /** dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)), with g = dy ⊙ γ. */
  private inputGrad(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const g = tf.mul(dy, this.gamma.variable);
      const meanG = tf.mean(g, -1, true);
      const meanGX = tf.mean(tf.mul(g, xhat), -1, true);
      return tf.mul(rstd, tf.sub(tf.sub(g, meanG), tf.mul(xhat, meanGX)));
    });
  }

  /** `inputGrad` in one WGSL launch (rstd one value a row), plus `addend` (x's gradient from its other consumers) when given. */
  private inputGradFused(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, addend: tf.Tensor | null): tf.Tensor {
    const inputs = [{ name: 'H', kind: 'row' as const }, { name: 'R', kind: 'scalar' as const }, { name: 'Y', kind: 'row' as const }, { name: 'G', kind: 'vec' as const }];
    return runRow(
      {
        key: addend ? 'lnGradAdd' : 'lnGrad',
        inputs: addend ? [...inputs, { name: 'A', kind: 'row' as const }] : inputs,
        phases: [[{ name: 'mg', op: 'sum', expr: 'y * g / d' }, { name: 'mgx', op: 'sum', expr: 'y * g * h / d' }]],
        out: addend ? 'r * (y * g - mg - h * mgx) + a' : 'r * (y * g - mg - h * mgx)',
      },
      { H: xhat, R: rstd, Y: dy, G: this.gamma.variable, ...(addend ? { A: addend } : {}) },
      dy.shape,
    );
  }
}
