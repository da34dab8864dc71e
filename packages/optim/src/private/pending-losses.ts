import type * as tf from '@tensorflow/tfjs-core';
import { deviceErrorMessage, GpuDeviceError } from '@clipwise/core';
import { ClipwiseOptimError } from '../errors';

/**
 * The loss sums of a logical batch's micro-batches, read from the device without waiting for them.
 *
 * Why: awaiting each micro-batch's loss drains the GPU queue, and the device then idles while the CPU
 * enqueues the next micro-batch (or the release and the update). Reading them all at the release,
 * after its noise is enqueued, leaves one wait per step where there were 1 + M (M micro-batches).
 * The check that every loss is finite moves with it: a non-finite loss still discards the whole
 * logical batch before any update, only one call later (`release`, not `accumulate`).
 */
export class PendingLosses {
  private pending: Promise<number>[] = [];

  /** Starts reading `loss` (a scalar the caller hands over: it is disposed once read). */
  add(loss: tf.Scalar): Promise<number> {
    const read = loss.data().then(
      (v) => {
        loss.dispose();
        return v[0]!;
      },
      (e: unknown) => {
        loss.dispose();
        throw e;
      },
    );
    read.catch(() => undefined); // handled where it is awaited (settle); never an unhandled rejection
    this.pending.push(read);
    return read;
  }

  /** The micro-batches' losses in order, and forgets them. */
  async settle(): Promise<number[]> {
    const all = this.pending;
    this.pending = [];
    return Promise.all(all);
  }

  /** Forgets the pending reads (they still dispose their losses when they finish). */
  clear(): void {
    this.pending = [];
  }
}

/** The first non-finite loss of a logical batch, or undefined when every one is finite. */
function firstNonFinite(losses: readonly number[]): number | undefined {
  return losses.find((l) => !Number.isFinite(l));
}

/**
 * Why a logical batch cannot be released, or null: the GPU device reported an error (its command
 * buffers never ran, so report that cause rather than the NaN it leads to), or a loss is not finite.
 */
export function unreleasable(losses: readonly number[]): Error | null {
  const device = deviceErrorMessage('the end of this logical batch');
  if (device !== null) return new GpuDeviceError(device);
  const bad = firstNonFinite(losses);
  return bad === undefined ? null : new ClipwiseOptimError(`loss is ${bad} on a micro-batch; the logical batch was discarded (lower the learning rate or check the data)`);
}
