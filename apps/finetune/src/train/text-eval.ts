import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Model } from '@clipwise/models';

/** Mean per-example loss over the target tokens, in chunks, without recording (inference). */
export async function meanTargetLoss(model: Gpt2Model, inputIds: Int32Array, mask: Uint8Array, n: number, t: number, chunk = 32): Promise<number> {
  let total = 0;
  for (let start = 0; start < n; start += chunk) {
    const b = Math.min(chunk, n - start);
    const sum = tf.tidy(() => {
      const ids = tf.tensor2d(inputIds.subarray(start * t, (start + b) * t), [b, t], 'int32');
      const m = tf.tensor2d(Float32Array.from(mask.subarray(start * t, (start + b) * t)), [b, t]);
      return tf.sum(model.perSampleLoss(ids, m));
    });
    total += (await sum.data())[0]!; // asynchronous: webgpu cannot read synchronously in Node
    sum.dispose();
  }
  return total / n;
}

/** Greedy decoding of up to `maxNew` tokens after `prompt`, stopping at `eot`. */
export async function greedyGenerate(model: Gpt2Model, prompt: number[], maxNew: number, eot: number): Promise<number[]> {
  const out = [...prompt];
  for (let i = 0; i < maxNew && out.length < model.config.n_positions; i++) {
    const arg = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(out, [1, out.length], 'int32'));
      return tf.argMax(logits.slice([0, out.length - 1, 0], [1, 1, -1]).reshape([-1]));
    });
    const next = (await arg.data())[0]!;
    arg.dispose();
    if (next === eot) break;
    out.push(next);
  }
  return out.slice(prompt.length);
}
