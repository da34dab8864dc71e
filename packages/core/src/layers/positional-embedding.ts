import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';
import { SingleWeightLayer, type SingleWeightOptions } from './single-weight-layer';

export interface PositionalEmbeddingOptions extends SingleWeightOptions {
  name: string;
  maxPositions: number;
  dim: number;
  /** Stored shape, e.g. [1, N + 1, d] for ViT; must hold maxPositions·dim values. Default [maxPositions, dim]. */
  paramShape?: number[];
}

/**
 * Learned absolute positions added to a sequence: y = x + P[0:T]. The per-sample gradient of P is
 * dy_i in the first T rows, so its record holds only dy ([B, T, d]) (kind 'positional').
 *
 * @example
 * const wpe = new PositionalEmbedding({ name: 'wpe', maxPositions: 64, dim: 16 });
 * const h = wpe.apply(tokens); // tokens [B, T<=64, 16]
 */
export class PositionalEmbedding extends SingleWeightLayer {
  readonly kind = 'positional';

  constructor(readonly options: PositionalEmbeddingOptions) {
    const shape = options.paramShape ?? [options.maxPositions, options.dim];
    if (shape.reduce((a, b) => a * b, 1) !== options.maxPositions * options.dim) {
      throw new ClipwiseConfigError(`PositionalEmbedding ${options.name}: paramShape [${shape}] must hold ${options.maxPositions}×${options.dim} values`);
    }
    super(options.name, 'positional', shape, options);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const t = x.shape[1]!;
    if (x.rank !== 3 || x.shape[2] !== this.options.dim || t > this.options.maxPositions) {
      throw new ClipwiseConfigError(
        `PositionalEmbedding ${this.name}: expected [B, T<=${this.options.maxPositions}, ${this.options.dim}], got [${x.shape}]`,
      );
    }
    const rows = () => this.weight.variable.reshape([this.options.maxPositions, this.options.dim]).slice([0, 0], [t, -1]);
    return this.recorded(
      x,
      (input) => tf.tidy(() => tf.add(input!, rows())),
      (dy) => ({ dx: tf.clone(dy), record: { gradOutput: dy.reshape(dy.shape), attrs: {} } }),
    );
  }
}

export interface ClassTokenOptions extends Omit<SingleWeightOptions, 'weightName'> {
  /** Layer and parameter name (ViT: `vit.embeddings.cls_token`). */
  name: string;
  dim: number;
  /** Default [1, 1, dim] (ViT's `cls_token`). */
  paramShape?: number[];
}

/**
 * Prepends a learned token to a sequence: [B, T, d] -> [B, T + 1, d]. Its per-sample gradient is
 * dy_i at position 0, so it shares the 'positional' kernel (record: dy[:, 0:1] as [B, 1, d]).
 */
export class ClassToken extends SingleWeightLayer {
  readonly kind = 'positional';

  constructor(readonly options: ClassTokenOptions) {
    const shape = options.paramShape ?? [1, 1, options.dim];
    if (shape.reduce((a, b) => a * b, 1) !== options.dim) {
      throw new ClipwiseConfigError(`ClassToken ${options.name}: paramShape [${shape}] must hold ${options.dim} values`);
    }
    super(options.name, 'positional', shape, options, options.name);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const [b, t, d] = x.shape;
    if (x.rank !== 3 || d !== this.options.dim) {
      throw new ClipwiseConfigError(`ClassToken ${this.name}: expected [B, T, ${this.options.dim}], got [${x.shape}]`);
    }
    return this.recorded(
      x,
      (input) =>
        tf.tidy(() => tf.concat([tf.tile(this.weight.variable.reshape([1, 1, d!]), [b!, 1, 1]), input!], 1)),
      (dy) => ({
        dx: dy.slice([0, 1, 0], [-1, t!, -1]),
        record: { gradOutput: dy.slice([0, 0, 0], [-1, 1, -1]), attrs: {} },
      }),
    );
  }
}
