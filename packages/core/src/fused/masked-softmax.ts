import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelsEnabled, fusedOnDevice, runRow, type RowSpec } from './fused-kernels';

export interface MaskedSoftmaxOptions {
  /** Multiplies the scores first (1/√d_head in attention). */
  readonly scale: number;
  /** Mask key j > query t (rows are queries; the row's query index is row mod T, T = the last axis). */
  readonly causal: boolean;
}

/** softmax(scale · s + mask) over the last axis as plain TF.js ops: the reference. */
export function maskedSoftmaxPlain(scores: tf.Tensor, o: MaskedSoftmaxOptions): tf.Tensor {
  return tf.tidy(() => {
    let s = tf.mul(scores, o.scale);
    if (o.causal) {
      const t = scores.shape[scores.rank - 1]!;
      const mask = tf.linalg.bandPart(tf.ones([t, t]), -1, 0); // lower triangle
      s = tf.add(s, tf.mul(tf.sub(1, mask), -1e9));
    }
    return tf.softmax(s);
  });
}

/** The row kernel of softmax(scale · s + causal mask); the query index is row mod T (T = the row length `n`). */
export function softmaxRowSpec(o: MaskedSoftmaxOptions): RowSpec {
  const keep = o.causal ? 'j <= row % n' : 'true';
  return {
    key: `softmax_${o.causal}_${o.scale}`,
    inputs: [{ name: 'S', kind: 'row' }],
    phases: [[{ name: 'm', op: 'max', expr: `select(-3.402823e38, s * ${o.scale}, ${keep})` }], [{ name: 'z', op: 'sum', expr: `select(0.0, exp(s * ${o.scale} - m), ${keep})` }]],
    out: `select(0.0, exp(s * ${o.scale} - m) / z, ${keep})`,
  };
}

/**
 * The row kernel of the softmax's log-normaliser lse = m + log Σ_j exp(scale·s_j − m) over the kept
 * entries, one value a row: what attention keeps for backward instead of the [T, T] probabilities.
 */
export function softmaxLseRowSpec(o: MaskedSoftmaxOptions): RowSpec {
  const base = softmaxRowSpec(o);
  return { ...base, key: `softmaxLse_${o.causal}_${o.scale}`, out: 'm + log(z)', perRow: true };
}

/** The probabilities again from scores S and each row's lse (input L, one value a row): exp(scale·s − lse), masked. */
export function softmaxFromLseRowSpec(o: MaskedSoftmaxOptions): RowSpec {
  const keep = o.causal ? 'j <= row % n' : 'true';
  return {
    key: `softmaxFromLse_${o.causal}_${o.scale}`,
    inputs: [{ name: 'S', kind: 'row' }, { name: 'L', kind: 'scalar' }],
    phases: [],
    out: `select(0.0, exp(s * ${o.scale} - l), ${keep})`,
  };
}

/** The row kernel of its gradient: ds = scale · p ⊙ (dp − Σ_j dp_j p_j), inputs P (probabilities) and G (dp). */
export function softmaxGradRowSpec(scale: number): RowSpec {
  return { key: `softmaxGrad_${scale}`, inputs: [{ name: 'P', kind: 'row' }, { name: 'G', kind: 'row' }], phases: [[{ name: 'gp', op: 'sum', expr: 'g * p' }]], out: `${scale} * p * (g - gp)` };
}

/**
 * Attention probabilities softmax(scale · s + causal mask) over the last axis of [..., T, T]
 * scores, with the softmax backward written out: one row kernel each way on webgpu.
 *
 * @example
 * const p = maskedSoftmax(scores, { scale: 1 / Math.sqrt(64), causal: true });
 */
export function maskedSoftmax(scores: tf.Tensor, o: MaskedSoftmaxOptions): tf.Tensor {
  if (!fusedKernelsEnabled()) return maskedSoftmaxPlain(scores, o);
  // query index = row mod T, and T is the row length `n`: one pipeline for every T (generation grows T)
  const f = tf.customGrad((...args: unknown[]) => {
    const s = args[0] as tf.Tensor;
    const save = args[1] as (ts: tf.Tensor[]) => void;
    const p = fusedOnDevice() ? runRow(softmaxRowSpec(o), { S: s }, s.shape) : maskedSoftmaxPlain(s, o);
    save([p]);
    return {
      value: p,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const prob = saved[0]!;
        // ds = scale · p ⊙ (dp − Σ_j dp_j p_j)
        if (fusedOnDevice()) {
          return [
            runRow(softmaxGradRowSpec(o.scale), { P: prob, G: dy }, prob.shape),
          ];
        }
        return [tf.tidy(() => tf.mul(o.scale, tf.mul(prob, tf.sub(dy, tf.sum(tf.mul(dy, prob), -1, true)))))];
      },
    };
  });
  return (f as (t: tf.Tensor) => tf.Tensor)(scores);
}
