import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError } from '../errors';
import { fusedKernelsEnabled, fusedOnDevice, runRow } from './fused-kernels';

/** −log softmax(z)[label] over the last axis as plain TF.js ops (differentiated by TF.js): the reference. */
export function tokenNllPlain(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const v = logits.shape[logits.rank - 1]!;
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels as tf.Tensor1D, v)), -1));
  });
}

// the int32 labels are read as i32 (`l`); a label out of [0, V) matches no j: its loss is
// log Σ exp z (as with a zero one-hot row)
const IS_LABEL = 'f32(j) == f32(l)';

/**
 * Per-position cross-entropy −log softmax(z)[label] over the last axis of logits [..., V], with
 * int32 labels [...]; returns [...]. Its gradient (softmax(z) − onehot(label)) · dy is written out,
 * so no [..., V] one-hot, log-softmax or CPU ones array is built: one row kernel forward and one
 * backward on webgpu (plain TF.js: ~8 kernels over [..., V] each way, and TF.js's Sum gradient
 * used to fill a ones array of the logits' size on the CPU).
 *
 * @example
 * const nll = tokenNll(logits, labels); // logits [B, T, V], labels [B, T] -> [B, T]
 */
export function tokenNll(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  if (labels.shape.join(',') !== logits.shape.slice(0, -1).join(',')) {
    throw new ClipwiseConfigError(`tokenNll: labels [${labels.shape}] must be logits [${logits.shape}] without the last axis`);
  }
  if (!fusedKernelsEnabled()) return tokenNllPlain(logits, labels);
  if (!fusedOnDevice()) return tokenNllOps(logits, labels);
  const f = tf.customGrad((...args: unknown[]) => {
    const z = args[0] as tf.Tensor;
    const save = args[1] as (ts: tf.Tensor[]) => void;
    // labels saved with the logits: the caller's labels tensor may be freed before the backward
    save([z, labels]);
    const value = tf.tidy(() =>
      runRow(
        {
          key: 'tokenNll',
          inputs: [{ name: 'Z', kind: 'row' }, { name: 'L', kind: 'scalar' }],
          phases: [[{ name: 'm', op: 'max', expr: 'z' }], [{ name: 'se', op: 'sum', expr: 'exp(z - m)' }, { name: 'zl', op: 'sum', expr: `select(0.0, z, ${IS_LABEL})` }]],
          out: 'log(se) + m - zl',
          perRow: true,
        },
        { Z: z, L: labels },
        z.shape,
      ),
    );
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ls] = saved as [tf.Tensor, tf.Tensor];
        return [
          tf.tidy(() =>
            runRow(
              {
                key: 'tokenNllGrad',
                inputs: [{ name: 'Z', kind: 'row' }, { name: 'L', kind: 'scalar' }, { name: 'G', kind: 'scalar' }],
                phases: [[{ name: 'm', op: 'max', expr: 'z' }], [{ name: 'se', op: 'sum', expr: 'exp(z - m)' }]],
                out: `g * (exp(z - m) / se - select(0.0, 1.0, ${IS_LABEL}))`,
              },
              { Z: zs, L: ls, G: dy },
              zs.shape,
            ),
          ),
        ];
      },
    };
  });
  return (f as (t: tf.Tensor) => tf.Tensor)(logits);
}

/**
 * `tokenNll` off the GPU, as TF.js ops with its gradient written out: the log-normaliser once
 * (max, exp, sum over [..., V]), the label's logit by a gather rather than a one-hot product, and
 * the log-normaliser saved for the backward, which forms softmax − onehot with one exp. Plain TF.js
 * makes about seven passes over [..., V] each way (log-softmax, one-hot, product and sum forward;
 * softmax again backward); this makes four forward and five backward. Labels must be in [0, V).
 */
function tokenNllOps(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const v = logits.shape[logits.rank - 1]!;
  const rows = logits.size / v;
  const f = tf.customGrad((...args: unknown[]) => {
    const z = args[0] as tf.Tensor;
    const save = args[1] as (ts: tf.Tensor[]) => void;
    const lse = tf.tidy(() => {
      const m = tf.max(z, -1, true);
      return tf.add(tf.log(tf.sum(tf.exp(tf.sub(z, m)), -1, true)), m);
    });
    save([z, labels, lse]);
    const value = tf.tidy(() => {
      const zl = tf.gather(tf.reshape(z, [rows, v]), tf.reshape(tf.cast(labels, 'int32'), [rows, 1]), 1, 1);
      return tf.sub(tf.reshape(lse, labels.shape), tf.reshape(zl, labels.shape));
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ls, lses] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return [tf.tidy(() => tf.mul(tf.sub(tf.exp(tf.sub(zs, lses)), tf.oneHot(tf.cast(ls, 'int32'), v)), tf.expandDims(dy, -1)))];
      },
    };
  });
  return (f as (t: tf.Tensor) => tf.Tensor)(logits);
}
