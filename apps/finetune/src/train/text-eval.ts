import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Model } from '@clipwise/models';

/** Mean per-example loss over the target tokens, in chunks, without recording (inference). */
export function meanTargetLoss(model: Gpt2Model, inputIds: Int32Array, mask: Uint8Array, n: number, t: number, chunk = 32): number {
  let total = 0;
  for (let start = 0; start < n; start += chunk) {
    const b = Math.min(chunk, n - start);
    total += tf.tidy(() => {
      const ids = tf.tensor2d(inputIds.subarray(start * t, (start + b) * t), [b, t], 'int32');
      const m = tf.tensor2d(Float32Array.from(mask.subarray(start * t, (start + b) * t)), [b, t]);
      return tf.sum(model.perSampleLoss(ids, m)).dataSync()[0]!;
    });
  }
  return total / n;
}

/** Greedy decoding of up to `maxNew` tokens after `prompt`, stopping at `eot`. */
export function greedyGenerate(model: Gpt2Model, prompt: number[], maxNew: number, eot: number): number[] {
  const out = [...prompt];
  for (let i = 0; i < maxNew && out.length < model.config.n_positions; i++) {
    const next = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(out, [1, out.length], 'int32'));
      return tf.argMax(logits.slice([0, out.length - 1, 0], [1, 1, -1]).reshape([-1])).dataSync()[0]!;
    });
    if (next === eot) break;
    out.push(next);
  }
  return out.slice(prompt.length);
}
