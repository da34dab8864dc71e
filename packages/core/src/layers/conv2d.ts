import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';
import type { ParamSpec } from '../types';
import { DPLayer } from './dp-layer';
import { createParam, nextLayerOrder, normalInit, zerosInit, type Initializer } from './param';

export interface Conv2dOptions {
  name: string;
  inChannels: number;
  outChannels: number;
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: 'valid' | 'same';
  bias?: boolean;
  /**
   * Whether the input needs a gradient. False for a first layer on pixels (ViT's patch
   * embedding): the input is then data, closed over, and no input gradient is computed.
   */
  inputGrad?: boolean;
  weightName?: string;
  biasName?: string;
  weightInit?: Initializer;
  device?: string;
}

/**
 * A DP-aware 2-D convolution on NCHW input (torch layout), weight [out, in, kh, kw], output NHWC
 * [B, Ho, Wo, out]. It unfolds the input into patches (T = Ho·Wo rows of K = in·kh·kw values, in
 * the weight's (c, i, j) order) and is then a linear layer: its record holds the patches [B, T, K]
 * and dy [B, T, out] (kind 'conv2d').
 *
 * @example
 * const patch = new Conv2d({ name: 'proj', inChannels: 3, outChannels: 8, kernelSize: 4, stride: 4, inputGrad: false });
 * const y = patch.apply(pixels); // [B, 3, 32, 32] -> [B, 8, 8, 8]
 */
export class Conv2d extends DPLayer {
  readonly kind = 'conv2d';
  readonly weight: ParamSpec;
  readonly bias: ParamSpec | null;
  private readonly kh: number;
  private readonly kw: number;
  private readonly strides: [number, number];
  private unfoldFilter: tf.Tensor4D | null = null;

  constructor(readonly options: Conv2dOptions) {
    super(options.name, nextLayerOrder());
    const k = options.kernelSize;
    [this.kh, this.kw] = typeof k === 'number' ? [k, k] : k;
    const s = options.stride ?? 1;
    this.strides = typeof s === 'number' ? [s, s] : s;
    if (![options.inChannels, options.outChannels, this.kh, this.kw, ...this.strides].every((v) => Number.isInteger(v) && v > 0)) {
      throw new ClipwiseConfigError(`Conv2d ${options.name}: channels, kernel size and stride must be positive integers`);
    }
    this.weight = createParam({
      name: options.weightName ?? `${options.name}.weight`,
      layer: options.name,
      kind: this.kind,
      role: 'weight',
      shape: [options.outChannels, options.inChannels, this.kh, this.kw],
      init: options.weightInit ?? normalInit(0.02),
      order: this.order,
      device: options.device,
    });
    this.bias =
      options.bias === false
        ? null
        : createParam({
            name: options.biasName ?? `${options.name}.bias`,
            layer: options.name,
            kind: this.kind,
            role: 'bias',
            shape: [options.outChannels],
            init: zerosInit,
            order: this.order,
            device: options.device,
          });
  }

  get paramsByRole(): Record<string, ParamSpec> {
    return this.bias ? { weight: this.weight, bias: this.bias } : { weight: this.weight };
  }

  ownParams(): ParamSpec[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  override dispose(): void {
    super.dispose();
    this.unfoldFilter?.dispose();
  }

  private get patchSize(): number {
    return this.options.inChannels * this.kh * this.kw;
  }

  /** One-hot filter [kh, kw, C, K]: output channel c·kh·kw + i·kw + j picks input (i, j, c). */
  private filter(): tf.Tensor4D {
    if (this.unfoldFilter === null) {
      const c = this.options.inChannels;
      const buf = tf.buffer([this.kh, this.kw, c, this.patchSize], 'float32');
      for (let i = 0; i < this.kh; i++)
        for (let j = 0; j < this.kw; j++) for (let ch = 0; ch < c; ch++) buf.set(1, i, j, ch, ch * this.kh * this.kw + i * this.kw + j);
      this.unfoldFilter = tf.keep(buf.toTensor() as tf.Tensor4D);
    }
    return this.unfoldFilter;
  }

  /** NCHW input -> patches [B, Ho, Wo, K]. */
  unfold(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.conv2d(tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D, this.filter(), this.strides, this.options.padding ?? 'valid'));
  }

  apply(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.options.inChannels) {
      throw new ClipwiseConfigError(`Conv2d ${this.name}: expected NCHW input [B, ${this.options.inChannels}, H, W], got [${x.shape}]`);
    }
    const x4 = x as tf.Tensor4D;
    const out = this.options.outChannels;
    const wMat = () => this.weight.variable.reshape([out, this.patchSize]);
    const forward = (patches: tf.Tensor4D) =>
      tf.tidy(() => {
        let y = tf.matMul(patches.reshape([-1, this.patchSize]), wMat(), false, true);
        if (this.bias) y = tf.add(y, this.bias.variable);
        return y.reshape([...patches.shape.slice(0, 3), out]);
      });
    const withInputGrad = this.options.inputGrad !== false;
    return this.recorded(
      withInputGrad ? x4 : null,
      (input, save) => {
        const patches = this.unfold((input ?? x4) as tf.Tensor4D);
        save([patches]);
        const y = forward(patches);
        patches.dispose();
        return y;
      },
      (dy, [patches]) => {
        const [b, ho, wo] = patches!.shape;
        const record = {
          activation: patches!.reshape([b!, ho! * wo!, this.patchSize]),
          gradOutput: dy.reshape([b!, ho! * wo!, out]),
          attrs: { layout: 'out_in' },
        };
        if (!withInputGrad) return { record };
        const dx = tf.tidy(() => {
          const dPatches = tf.matMul(dy.reshape([-1, out]), wMat()).reshape(patches!.shape) as tf.Tensor4D;
          const [, h, w, c] = [x4.shape[0], x4.shape[2], x4.shape[3], x4.shape[1]];
          const nhwc = tf.conv2dTranspose(dPatches, this.filter(), [b!, h, w, c], this.strides, this.options.padding ?? 'valid');
          return tf.transpose(nhwc, [0, 3, 1, 2]);
        });
        return { dx, record };
      },
    );
  }
}
