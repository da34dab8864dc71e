import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Model, PretrainedModel, VitModel } from '@clipwise/models';
import type { TaskData } from './in-memory-task';

/** Row lengths are rounded up to this many tokens: few distinct shapes (webgpu compiles a pipeline per shape). */
export const LENGTH_STEP = 16;

/** Each row's length up to and including its last target token (0 for a row without targets). */
export function targetLengths(labelMask: Uint8Array, n: number, t: number): Int32Array {
  const lengths = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let last = t - 1;
    while (last >= 0 && labelMask[r * t + last] === 0) last--;
    lengths[r] = last + 1;
  }
  return lengths;
}

/**
 * How many leading tokens of the rows at `idx` a batch needs: their longest target length, rounded
 * up to {@link LENGTH_STEP}, at least 2 and at most `t`. Tokens after a row's last target change
 * neither its loss nor its gradient (causal attention: no earlier position sees them), so the step
 * drops the padding every row of the batch has.
 */
export function batchLength(lengths: Int32Array, idx: Int32Array, t: number): number {
  let longest = 2;
  for (const r of idx) longest = Math.max(longest, lengths[r]!);
  return Math.min(t, Math.ceil(longest / LENGTH_STEP) * LENGTH_STEP);
}

/**
 * The training step's loss: the per-sample losses [B] of the training examples at `idx` (token rows
 * gathered with their target masks, or images as pixel values), built inside the step's forward.
 * Token rows are cut to the batch's {@link batchLength}: E2E rows padded to 176 tokens average ~100.
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
  const { inputIds, labelMask, n, t } = data.train;
  const gpt = model as Gpt2Model;
  const lengths = targetLengths(labelMask, n, t);
  return (idx) => tf.tidy(() => {
    const len = batchLength(lengths, idx, t);
    const ids = new Int32Array(idx.length * len);
    const mask = new Float32Array(idx.length * len);
    idx.forEach((r, i) => {
      ids.set(inputIds.subarray(r * t, r * t + len), i * len);
      for (let j = 0; j < len; j++) mask[i * len + j] = labelMask[r * t + j]!;
    });
    return gpt.perSampleLoss(tf.tensor2d(ids, [idx.length, len], 'int32'), tf.tensor2d(mask, [idx.length, len]));
  });
}
