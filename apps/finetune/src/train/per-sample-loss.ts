import * as tf from '@tensorflow/tfjs-core';
import { envSwitch, gpuPoolStats, poolFitUp, trimGpuBufferPool } from '@clipwise/core';
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
 * Token rows are cut to {@link batchLength} of `logical` (the step's whole logical batch; default
 * `idx`): E2E rows padded to 176 tokens average ~100, and every micro-batch of a step gets one length.
 * Browser-safe: `clipwise train` and the web example use this one.
 *
 * On webgpu, a micro-batch of another shape than the last (a Poisson batch's last micro-batch, a
 * step's new length) first gives the pool's free buffers back ({@link trimGpuBufferPool}): the pool
 * reuses a buffer only for a request of its size class, so buffers sized for the old shape sat beside
 * the new ones, and the study's s12m GPT-2 held 15.9 GB for a step of 4.3 GB in use.
 *
 * @example
 * ```ts
 * const lossOf = perSampleLossFn(model, task);
 * const batch = Int32Array.of(0, 5, 9, 12);
 * for (const micro of [batch.subarray(0, 2), batch.subarray(2)]) await gradients.accumulate(() => lossOf(micro, batch));
 * ```
 */
export function perSampleLossFn(model: PretrainedModel, data: TaskData): (idx: Int32Array, logical?: Int32Array) => tf.Tensor {
  const reshaped = shapeChangeTrimmer();
  if (data.kind === 'images') {
    const vit = model as VitModel;
    const size = vit.config.image_size;
    return (idx) => tf.tidy(() => {
      reshaped(idx.length, size);
      const pixels = tf.tensor4d(data.train.toPixelValues(idx, { size }), [idx.length, 3, size, size]);
      return vit.perSampleLoss(pixels, tf.tensor1d(data.train.gatherLabels(idx), 'int32'));
    });
  }
  const { inputIds, labelMask, n, t } = data.train;
  const gpt = model as Gpt2Model;
  const lengths = targetLengths(labelMask, n, t);
  return (idx, logical = idx) => tf.tidy(() => {
    const len = batchLength(lengths, logical, t);
    reshaped(idx.length, len);
    const ids = new Int32Array(idx.length * len);
    const mask = new Float32Array(idx.length * len);
    idx.forEach((r, i) => {
      ids.set(inputIds.subarray(r * t, r * t + len), i * len);
      for (let j = 0; j < len; j++) mask[i * len + j] = labelMask[r * t + j]!;
    });
    return gpt.perSampleLoss(tf.tensor2d(ids, [idx.length, len], 'int32'), tf.tensor2d(mask, [idx.length, len]));
  });
}

// off by default: the trim of every free buffer is what webgpu's test:gpu and the GPU timings ran
const boundedTrim = envSwitch('CLIPWISE_POOL_TRIM_BOUNDED');

/**
 * Whether a shape change keeps up to the run's peak in-use bytes of free buffers in webgpu's
 * size-class pool (so the pool holds at most about twice the peak) instead of giving every free buffer
 * back. Every trim makes the next micro-batch create its buffers, bind groups and zeroed memory afresh:
 * on Dawn's null backend (no device work) a tiny GPT-2's private steps at Poisson batch sizes and
 * changing lengths took a median 81.9 ms of host time with the full trim and 66.9 with the bounded one
 * (faster in 6 of 9 interleaved rounds; `bench/shape-trim.ts`). On an H100 at the study's s53m shapes,
 * 716.8 against 795.2 ms a step (3 of 3 rounds), but with a pool peak of 20,415 MiB against 11,539 for
 * 10,786 in use. Off by default, since GPU memory is what a user budgets, and s53m's study cells with it
 * on (another H100) were no faster than with the full trim on the same batches
 * (CLIPWISE_POOL_TRIM_BOUNDED=on, read once, turns it on); null: back to that default.
 *
 * @example
 * setBoundedShapeTrim(true); // then `perSampleLossFn`'s micro-batches of a new shape reuse the free buffers that fit
 */
export function setBoundedShapeTrim(on: boolean | null): void {
  boundedTrim.set(on);
}

/** Whether `setBoundedShapeTrim` is on. */
export function boundedShapeTrimEnabled(): boolean {
  return boundedTrim.enabled();
}

/**
 * A call per micro-batch with its shape: when the shape changes, gives webgpu's free pooled buffers
 * back, all of them, or with {@link setBoundedShapeTrim} on, those idle since the last change and then
 * the largest while more than the run's peak in-use bytes stay free (TF.js's exact pool, which has no
 * peak count: all of them). With core's pool fitting up (`setPoolFitUp`, CLIPWISE_POOL_FIT_UP), the
 * smallest of at least 1 MiB go first, idle or not, while more than the peak in-use bytes stay free:
 * the largest free buffers are the ones a smaller shape's tensors can take, and the small ones (norms,
 * biases, reads) are many, cheap to keep and costly to create again. A no-op off webgpu.
 *
 * @example
 * const trim = shapeChangeTrimmer();
 * trim(128, 176); trim(115, 176); // the second call trims
 */
export function shapeChangeTrimmer(): (rows: number, length: number) => void {
  let last = '';
  return (rows, length) => {
    const shape = `${rows}x${length}`;
    // a pool that fits up trims its own way (smallest first, idle or not) down to the keep
    if (last !== '' && shape !== last) trimGpuBufferPool(boundedTrim.enabled() || poolFitUp() > 1 ? (gpuPoolStats()?.peakInUse ?? 0) : 0);
    last = shape;
  };
}
