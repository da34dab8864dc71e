import * as tf from '@tensorflow/tfjs-core';

/**
 * `release`'s answer from a release started without a guard: the gradients with the report, or, where
 * the report rejects (a non-finite loss, a device error), the gradients freed and the error thrown.
 */
export async function settleRelease<R>({ grads, report }: { grads: Map<string, tf.Tensor>; report: Promise<R> }): Promise<R & { grads: Map<string, tf.Tensor> }> {
  try {
    return { grads, ...(await report) };
  } catch (e) {
    tf.dispose([...grads.values()]);
    throw e;
  }
}
