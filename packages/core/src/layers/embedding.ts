import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';
import { SingleWeightLayer, type SingleWeightOptions } from './single-weight-layer';

export interface EmbeddingOptions extends SingleWeightOptions {
  name: string;
  numEmbeddings: number;
  dim: number;
}

/**
 * A DP-aware lookup table [numEmbeddings, dim] applied to int32 ids [B, T]. Its weight can be tied
 * to an output projection (`new Linear({ ..., layout: 'out_in', tiedWeight: emb.weight })`); the
 * kernels then form the per-sample norm of the sum of both uses, cross term included.
 * Its record holds the ids ([B, T], int32) and `dy` ([B, T, dim]).
 *
 * @example
 * const wte = new Embedding({ name: 'wte', numEmbeddings: 100, dim: 16 });
 * const h = wte.apply(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')); // [1, 3, 16]
 */
export class Embedding extends SingleWeightLayer {
  readonly kind = 'embedding';

  constructor(readonly options: EmbeddingOptions) {
    if (!(options.numEmbeddings > 0 && options.dim > 0)) {
      throw new ClipwiseConfigError(`Embedding ${options.name}: numEmbeddings and dim must be positive, got ${options.numEmbeddings}, ${options.dim}`);
    }
    super(options.name, 'embedding', [options.numEmbeddings, options.dim], options);
  }

  apply(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32' || ids.rank < 1) {
      throw new ClipwiseConfigError(`Embedding ${this.name}: ids must be an int32 tensor [B, ...], got ${ids.dtype} [${ids.shape}]`);
    }
    const outShape = [...ids.shape, this.options.dim];
    return this.recorded(
      null,
      (_, save) => {
        // ids may be a temporary of the forward pass: save a handle for backward
        save([ids]);
        return tf.gather(this.weight.variable, ids.flatten()).reshape(outShape);
      },
      (dy, [saved]) => ({
        record: {
          activation: saved!.reshape([ids.shape[0]!, -1]),
          gradOutput: dy.reshape([ids.shape[0]!, -1, this.options.dim]),
          attrs: { numEmbeddings: this.options.numEmbeddings },
        },
      }),
    );
  }
}
