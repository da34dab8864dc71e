import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Model, PretrainedModel, VitModel } from '@clipwise/models';
import type { TaskData } from './in-memory-task';

/**
 * The training step's loss: the per-sample losses [B] of the training examples at `idx` (token rows
 * gathered with their target masks, or images as pixel values), built inside the step's forward.
 * Browser-safe: `clipwise train` and the web example use this one.
 *
 * @example
 * ```ts
 * const lossOf = perSampleLossFn(model, task);
 * await gradients.accumulate(() => lossOf(Int32Array.of(0, 5, 9)));
 * ```
 */
export function perSampleLossFn(model: PretrainedModel, data: TaskData): (idx: Int32Array) => tf.Tensor {
  if (data.kind === 'images') {
    const vit = model as VitModel;
    const size = vit.config.image_size;
    return (idx) => tf.tidy(() => {
      const pixels = tf.tensor4d(data.train.toPixelValues(idx, { size }), [idx.length, 3, size, size]);
      return vit.perSampleLoss(pixels, tf.tensor1d(data.train.gatherLabels(idx), 'int32'));
    });
  }
  const { inputIds, labelMask, t } = data.train;
  const gpt = model as Gpt2Model;
  return (idx) => tf.tidy(() => {
    const ids = new Int32Array(idx.length * t);
    const mask = new Float32Array(idx.length * t);
    idx.forEach((r, i) => {
      ids.set(inputIds.subarray(r * t, (r + 1) * t), i * t);
      for (let j = 0; j < t; j++) mask[i * t + j] = labelMask[r * t + j]!;
    });
    return gpt.perSampleLoss(tf.tensor2d(ids, [idx.length, t], 'int32'), tf.tensor2d(mask, [idx.length, t]));
  });
}
