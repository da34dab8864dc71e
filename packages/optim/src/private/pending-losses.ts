import * as tf from '@tensorflow/tfjs-core';
import { deviceErrorMessage, GpuDeviceError } from '@clipwise/core';
import { ClipwiseOptimError } from '../errors';

/**
 * The loss sums of a logical batch's micro-batches, read from the device without waiting for them.
 *
 * Why: awaiting each micro-batch's loss drains the GPU queue, and the device then idles while the CPU
 * enqueues the next micro-batch (or the release and the update). Reading them all at the release,
 * after its noise is enqueued, leaves one wait per step where there were 1 + M (M micro-batches).
 * The check that every loss is finite moves with it: a non-finite loss still discards the whole
 * logical batch before any update, only one call later (`release`, not `accumulate`). `guard` makes the
 * same check on the device, for an update enqueued before the losses are read (a guarded release).
 */
export class PendingLosses {
  private pending: Promise<number>[] = [];
  /** The losses themselves, kept for `guard` until their reads settle. */
  private tensors: tf.Scalar[] = [];

  /** Starts reading `loss` (a scalar the caller hands over: it is disposed once read and settled). */
  add(loss: tf.Scalar): Promise<number> {
    const read = loss.data().then((v) => v[0]!);
    read.catch(() => undefined); // handled where it is awaited (settle); never an unhandled rejection
    this.pending.push(read);
    this.tensors.push(loss);
    return read;
  }

  /**
   * A float32 scalar on the device, 1 when the losses' float32 running sum is finite and 0 otherwise: the
   * device's side of `unreleasable`'s loss check (which replays the same float32 sum on the host, so both
   * refuse exactly the same batches): every loss is finite and their sum does not overflow, or the batch
   * is refused. No micro-batch (an empty Poisson batch): 1. The caller disposes it.
   */
  guard(): tf.Scalar {
    const ts = this.tensors;
    if (ts.length === 0) return tf.fill([], 1) as tf.Scalar;
    return tf.tidy(() => {
      let total: tf.Tensor = ts[0]!;
      for (let k = 1; k < ts.length; k++) total = tf.add(total, ts[k]!);
      // not tf.cast: TF.js casts bool to float32 as a view of the bool's int32 storage, which the update
      // kernels, binding raw float32 buffers, read as a denormal (1.4e-45) that NVIDIA flushes to 0
      return tf.where(tf.isFinite(total), tf.onesLike(total), tf.zerosLike(total)) as tf.Scalar;
    });
  }

  /** The micro-batches' losses in order, and forgets them. */
  async settle(): Promise<number[]> {
    const all = this.pending;
    const tensors = this.tensors;
    this.pending = [];
    this.tensors = [];
    let values: number[];
    try {
      values = await Promise.all(all);
    } catch (e) {
      disposeWhenRead(all, tensors);
      throw e;
    }
    tf.dispose(tensors); // every read has its copy
    return values;
  }

  /** Forgets the pending reads (their losses are disposed when the reads finish). */
  clear(): void {
    disposeWhenRead(this.pending, this.tensors);
    this.pending = [];
    this.tensors = [];
  }
}

/** Disposes `tensors` once every read of them has finished (disposing during a read would free what it maps). */
function disposeWhenRead(reads: readonly Promise<number>[], tensors: readonly tf.Tensor[]): void {
  void Promise.allSettled(reads).then(() => tf.dispose(tensors as tf.Tensor[]));
}

/**
 * Why a logical batch cannot be released, or null: the GPU device reported an error (its command
 * buffers never ran, so report that cause rather than the NaN it leads to), a loss is not finite, or the
 * losses' float32 running sum overflows (the device's `guard` sums them so: the same batches are refused
 * on both sides).
 */
export function unreleasable(losses: readonly number[]): Error | null {
  const device = deviceErrorMessage('the end of this logical batch');
  if (device !== null) return new GpuDeviceError(device);
  const bad = losses.find((l) => !Number.isFinite(l));
  if (bad !== undefined) {
    return new ClipwiseOptimError(`loss is ${bad} on a micro-batch; the logical batch was discarded (lower the learning rate or check the data)`);
  }
  let total = 0;
  for (const l of losses) total = Math.fround(total + l); // float32 addition, exactly as the device's
  return Number.isFinite(total)
    ? null
    : new ClipwiseOptimError(`the micro-batches' losses sum to ${total} in float32; the logical batch was discarded (lower the learning rate or check the data)`);
}
