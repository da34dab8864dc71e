import { perSampleDot, perSampleSqNorm, scatterAddRows } from '@clipwise/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '@clipwise/core';
import { registerNormKernel, type NormKernel, type NormMode } from '../norm-kernel';

const F32 = 4;

function vocab(record: LayerRecord): number {
  return record.params['weight']!.shape[0]!;
}

/** Per-sample gradients [B, V, d]: a scatter-add of each sample's dy rows into its own table. */
function scatterPerSample(ids: tf.Tensor2D, dy: tf.Tensor3D, v: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t] = ids.shape;
    const d = dy.shape[2];
    const offsets = tf.mul(tf.range(0, b, 1, 'int32').reshape([b, 1]), tf.scalar(v, 'int32'));
    const flatIds = tf.add(ids, offsets).reshape([b * t]) as tf.Tensor1D;
    return scatterAddRows(flatIds, dy.reshape([b * t, d]), b * v).reshape([b, v, d]) as tf.Tensor3D;
  });
}

/** Σ_i c_i E_i [V, d] (plus `into`, consumed, where given). */
function clippedTable(record: LayerRecord, c: tf.Tensor1D | null, into?: tf.Tensor2D): tf.Tensor2D {
  const ids = record.activation as tf.Tensor2D;
  const dy = record.gradOutput as tf.Tensor3D;
  return tf.tidy(() => {
    const [b, t, d] = dy.shape;
    const cdy = (c === null ? dy : tf.mul(dy, tf.reshape(c, [b, 1, 1]))).reshape([b * t, d]);
    // rows that share an id summed in a fixed order (TF.js's scatterND on webgpu adds them with
    // float atomics: other low bits every run)
    return scatterAddRows(ids.reshape([b * t]) as tf.Tensor1D, cdy as tf.Tensor2D, vocab(record), into);
  });
}

/**
 * Embedding table [V, d] with ids x_i [T]: per-sample gradient E_i[v] = Σ_t [x_it = v] dy_it.
 * Ghost: ‖E_i‖² = Σ_{t,s} [x_it = x_is] ⟨dy_it, dy_is⟩, O(B T² d) time, O(B T²) space, no V.
 */
export const embeddingKernel: NormKernel = {
  kind: 'embedding',
  perSampleSqNorms(record, mode = 'auto') {
    const ids = record.activation as tf.Tensor2D;
    const dy = record.gradOutput as tf.Tensor3D;
    const [, t, d] = dy.shape;
    const chosen: NormMode = mode === 'auto' ? (2 * t * t <= vocab(record) * d ? 'ghost' : 'instantiate') : mode;
    const sqNorms = tf.tidy(() => {
      if (chosen === 'ghost') {
        const same = tf.cast(tf.equal(tf.expandDims(ids, 2), tf.expandDims(ids, 1)), 'float32');
        return perSampleDot(same, tf.matMul(dy, dy, false, true));
      }
      return perSampleSqNorm(scatterPerSample(ids, dy, vocab(record)));
    });
    return { weight: { sqNorms, mode: chosen } };
  },
  clippedSum(record, c) {
    return { weight: clippedTable(record, c) };
  },
  clippedSumInto(record, c, roles, into) {
    const out: Record<string, tf.Tensor> = {};
    if (roles.includes('weight')) out['weight'] = clippedTable(record, c, into['weight'] as tf.Tensor2D | undefined);
    return out;
  },
  perSampleGrads(record) {
    return { weight: scatterPerSample(record.activation as tf.Tensor2D, record.gradOutput as tf.Tensor3D, vocab(record)) };
  },
  cost({ batch, seq, outFeatures: d, attrs }) {
    const v = (attrs['numEmbeddings'] as number | undefined) ?? 0;
    return {
      weight: {
        ghost: { flops: 2 * batch * seq * seq * d + batch * seq * seq, bytes: 2 * batch * seq * seq * F32 },
        instantiate: { flops: 2 * batch * seq * d + batch * v * d, bytes: batch * v * d * F32 },
        chosen: 2 * seq * seq <= v * d ? 'ghost' : 'instantiate',
      },
    };
  },
};

registerNormKernel(embeddingKernel);
