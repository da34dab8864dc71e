import { perSampleSqNorm } from '@clipwise/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '@clipwise/core';
import { registerNormKernel, type NormKernel } from '../norm-kernel';

const F32 = 4;

/**
 * Parameters added to (or prepended to) a sequence: learned positions, class tokens. Sample i's
 * gradient is dy_i ([T, d]) in the first T rows of the parameter viewed as [rows, d], zero elsewhere.
 */
function padToParam(record: LayerRecord, rowsFirst: tf.Tensor, leading: number[]): tf.Tensor {
  const p = record.params['weight']!;
  const d = p.shape[p.shape.length - 1]!;
  const rows = p.size / d;
  const t = record.gradOutput.shape[1]!;
  return tf.tidy(() => {
    const padded = t === rows ? rowsFirst : tf.pad(rowsFirst, [...leading.map(() => [0, 0] as [number, number]), [0, rows - t], [0, 0]]);
    return tf.reshape(padded, [...leading, ...p.shape]);
  });
}

export const positionalKernel: NormKernel = {
  kind: 'positional',
  perSampleSqNorms(record) {
    const sqNorms = perSampleSqNorm(record.gradOutput);
    return { weight: { sqNorms, mode: 'instantiate' } };
  },
  clippedSum(record, c) {
    const dy = record.gradOutput as tf.Tensor3D;
    return { weight: tf.tidy(() => padToParam(record, tf.sum(c === null ? dy : tf.mul(dy, tf.reshape(c, [-1, 1, 1])), 0), [])) };
  },
  perSampleGrads(record) {
    return { weight: padToParam(record, record.gradOutput, [record.gradOutput.shape[0]!]) };
  },
  cost({ batch, seq, outFeatures: d }) {
    return { weight: { instantiate: { flops: 2 * batch * seq * d, bytes: batch * F32 }, chosen: 'instantiate' } };
  },
};

registerNormKernel(positionalKernel);
