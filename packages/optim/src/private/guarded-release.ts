import * as tf from '@tensorflow/tfjs-core';
import { submitQueued } from '@clipwise/core';
import type { Optimizer } from '../optimizer';

/**
 * A release whose checks have not been made yet: `releaseGuarded` of `PrivateGradients` and
 * `NonPrivateGradients`. The gradients and the guard are the caller's to dispose (after the update has
 * been enqueued with them); `report` resolves once the device has answered, or rejects where `release`
 * would have thrown (a non-finite loss, a device error), and then the guard was 0 on the device.
 * On webgpu its noise is enqueued but not yet submitted: submit it with the update (core's `submitQueued`).
 */
export interface GuardedRelease<R> {
  readonly grads: Map<string, tf.Tensor>;
  /** A float32 scalar on the device: 1 when the batch may be released, 0 when it is refused. */
  readonly guard: tf.Scalar;
  readonly report: Promise<R>;
}

/** Options of `releaseAndStep`. */
export interface ReleaseAndStepOptions {
  /** Runs each part of the step (the release's enqueueing, the update's) and returns its result: e.g. memory's `probe.around`, to time or measure them apart. */
  readonly around?: <T>(part: 'release' | 'update', run: () => T) => T;
}

/**
 * One release and update without a wait for the device between them: the update is enqueued right
 * behind the noise, guarded on the device (θ and the optimizer's state stay as they were where the
 * guard is 0), and the host reads the losses and norms while the device runs it. Where the report
 * rejects, the optimizer's counts are put back (`discardLastStep`) and the error is rethrown, so a
 * refused batch leaves everything as `release` throwing before the update did.
 *
 * Why: waiting for the losses before enqueuing the update left the device idle through the read's
 * round trip, the host's post-read work and the update's encoding: 0.9 ms of GPT-2 small's non-private
 * step and 3.2–5.8 ms of its private ones on an H100 (`clipwise bench --gpu-passes on`).
 *
 * @example
 * for (const micro of batches) await pg.accumulate(() => model.perSampleLoss(micro));
 * const { groups, lossSum } = await releaseAndStep(pg, opt);
 */
export async function releaseAndStep<R>(source: { releaseGuarded(): GuardedRelease<R> }, optimizer: Optimizer, options: ReleaseAndStepOptions = {}): Promise<R> {
  const around = options.around ?? ((_, run) => run());
  const { grads, guard, report } = around('release', () => source.releaseGuarded());
  try {
    around('update', () => {
      optimizer.step(grads, { guard });
      submitQueued(); // the noise and the update run while the host waits for the read below
    });
  } catch (e) {
    report.catch(() => undefined); // the step's error is the one to report
    throw e;
  } finally {
    tf.dispose([...grads.values(), guard]);
  }
  try {
    return await report;
  } catch (e) {
    optimizer.discardLastStep();
    throw e;
  }
}
