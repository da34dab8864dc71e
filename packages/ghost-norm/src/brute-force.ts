import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '@clipwise/core';

/**
 * Per-sample gradients the slow, obvious way: one `tf.variableGrads` per sample, outside any
 * recording (layers run as plain TF.js ops). The reference every kernel is tested against.
 * Returns, per parameter name, a [B, ...shape] tensor. The caller disposes it.
 *
 * @example
 * const g = bruteForcePerSampleGrads((i) => lossOfSample(i), params, batchSize);
 */
export function bruteForcePerSampleGrads(
  sampleLoss: (i: number) => tf.Scalar,
  params: readonly ParamSpec[],
  batch: number,
): Map<string, tf.Tensor> {
  const perSample = new Map<string, tf.Tensor[]>(params.map((p) => [p.name, []]));
  for (let i = 0; i < batch; i++) {
    const { value, grads } = tf.variableGrads(() => sampleLoss(i), params.map((p) => p.variable));
    value.dispose();
    for (const p of params) {
      const g = grads[p.variable.name];
      perSample.get(p.name)!.push(g ?? tf.zeros(p.shape as number[]));
    }
  }
  const out = new Map<string, tf.Tensor>();
  for (const [name, gs] of perSample) {
    out.set(name, tf.stack(gs));
    tf.dispose(gs);
  }
  return out;
}

/** Per-sample squared norms [B] of [B, ...] per-sample gradients. */
export function sqNormsOf(perSampleGrads: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.square(tf.reshape(perSampleGrads, [perSampleGrads.shape[0]!, -1])), 1) as tf.Tensor1D);
}
