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

/**
 * The tokens that would repeat an n-gram of `generated` (n = `noRepeatNgram`): those that followed an
 * earlier occurrence of its last n − 1 tokens. Only the generated text counts, not the prompt (an
 * E2E output should copy the MR's values).
 */
export function bannedNextTokens(generated: readonly number[], noRepeatNgram: number): Set<number> {
  const banned = new Set<number>();
  const k = noRepeatNgram - 1;
  if (noRepeatNgram < 1 || generated.length < k) return banned;
  const tail = generated.slice(generated.length - k);
  for (let i = 0; i + k < generated.length; i++) {
    let same = true;
    for (let j = 0; j < k && same; j++) same = generated[i + j] === tail[j];
    if (same) banned.add(generated[i + k]!);
  }
  return banned;
}

/**
 * Greedy decoding of up to `maxNew` tokens after `prompt`, stopping at `eot`. With `noRepeatNgram`
 * n > 0, a token that would repeat an n-gram of the generated text is never taken (n-gram blocking,
 * as Hugging Face's `no_repeat_ngram_size`): small models otherwise fall into loops.
 */
export async function greedyGenerate(model: Gpt2Model, prompt: number[], maxNew: number, eot: number, noRepeatNgram = 0): Promise<number[]> {
  const out = [...prompt];
  for (let i = 0; i < maxNew && out.length < model.config.n_positions; i++) {
    const last = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(out, [1, out.length], 'int32'));
      return logits.slice([0, out.length - 1, 0], [1, 1, -1]).reshape([-1]);
    });
    const scores = await last.data();
    last.dispose();
    const banned = bannedNextTokens(out.slice(prompt.length), noRepeatNgram);
    let next = -1;
    for (let v = 0; v < scores.length; v++) if (!banned.has(v) && (next < 0 || scores[v]! > scores[next]!)) next = v;
    if (next === eot) break;
    out.push(next);
  }
  return out.slice(prompt.length);
}
