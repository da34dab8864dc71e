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

/** The bonus {@link copyBonus} gives the next token of a value begun: it beats any logit, so a begun value is finished. */
export const COPY_CONTINUE_BONUS = 1000;

/**
 * Copy bias for greedy decoding (`--gen-copy-bias`). For each value to copy that the output does not
 * hold yet: if the output ends with its first k tokens (0 < k < its length), its next token gets
 * {@link COPY_CONTINUE_BONUS} (a begun name is finished, not turned into another word). The first
 * value in order that is neither written nor begun, and whose first token the output has not used yet,
 * has that token get `bias`: values are offered one at a time, in order (an MR's name first), and each
 * once, so decoding does not keep starting them; none is offered right after a value was finished,
 * nor when `offer` is false ({@link greedyGenerate} offers only where the model would begin a
 * capitalised word: a name goes where the model itself would write one). `values` are token
 * sequences as they appear in prose (e.g. the encoding of `' Blue Spice'`).
 */
export function copyBonus(generated: readonly number[], values: readonly (readonly number[])[], bias: number, offer = true): Map<number, number> {
  const bonus = new Map<number, number>();
  if (bias === 0) return bonus;
  const add = (token: number, b: number) => bonus.set(token, Math.max(bonus.get(token) ?? 0, b));
  // no value is offered right after one was finished: "Giraffe Rainbow Vegetarian Café" is no sentence
  let offered = !offer || values.some((v) => v.length > 0 && endsWith(generated, v));
  for (const v of values) {
    if (v.length === 0 || containsRun(generated, v)) continue;
    let continued = false;
    for (let k = Math.min(v.length - 1, generated.length); k >= 1 && !continued; k--) {
      let same = true;
      for (let j = 0; j < k && same; j++) same = generated[generated.length - k + j] === v[j];
      if (same) {
        add(v[k]!, COPY_CONTINUE_BONUS);
        continued = true;
      }
    }
    if (!continued && !offered && !generated.includes(v[0]!)) {
      add(v[0]!, bias);
      offered = true;
    }
  }
  return bonus;
}

function endsWith(xs: readonly number[], run: readonly number[]): boolean {
  if (run.length > xs.length) return false;
  for (let j = 0; j < run.length; j++) if (xs[xs.length - run.length + j] !== run[j]) return false;
  return true;
}

function containsRun(xs: readonly number[], run: readonly number[]): boolean {
  for (let i = 0; i + run.length <= xs.length; i++) {
    let same = true;
    for (let j = 0; j < run.length && same; j++) same = xs[i + j] === run[j];
    if (same) return true;
  }
  return false;
}

/** Options of {@link greedyGenerate}. */
export interface GenerateOptions {
  /** Block repeated n-grams of this many tokens of the output (0: off). */
  noRepeatNgram?: number;
  /** Token sequences to copy (see {@link copyBonus}) and the logit bonus that favours them. */
  copy?: {
    values: readonly (readonly number[])[];
    bias: number;
    /** The tokens that begin a capitalised word (e.g. `' The'`): a value is offered only where the model's own choice is one. */
    capitalised: (token: number) => boolean;
  };
}

/**
 * Greedy decoding of up to `maxNew` tokens after `prompt`, stopping at `eot`. With `noRepeatNgram`
 * n > 0, a token that would repeat an n-gram of the generated text is never taken (n-gram blocking,
 * as Hugging Face's `no_repeat_ngram_size`): small models otherwise fall into loops. With `copy`, the
 * scores get {@link copyBonus}'s bonuses before the arg max: a begun value is always finished, and the
 * next value is offered (`bias` added to its first token) where the arg max without it begins a
 * capitalised word.
 */
export async function greedyGenerate(model: Gpt2Model, prompt: number[], maxNew: number, eot: number, { noRepeatNgram = 0, copy }: GenerateOptions = {}): Promise<number[]> {
  const out = [...prompt];
  for (let i = 0; i < maxNew && out.length < model.config.n_positions; i++) {
    const last = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(out, [1, out.length], 'int32'));
      return logits.slice([0, out.length - 1, 0], [1, 1, -1]).reshape([-1]);
    });
    const scores = await last.data();
    last.dispose();
    const generated = out.slice(prompt.length);
    const banned = bannedNextTokens(generated, noRepeatNgram);
    const pick = (bonus: Map<number, number>) => {
      let next = -1;
      let best = -Infinity;
      for (let v = 0; v < scores.length; v++) {
        if (banned.has(v)) continue;
        const score = scores[v]! + (bonus.get(v) ?? 0);
        if (next < 0 || score > best) {
          next = v;
          best = score;
        }
      }
      return next;
    };
    let next = pick(copy ? copyBonus(generated, copy.values, copy.bias, false) : new Map<number, number>());
    // where the model would begin a capitalised word, the next MR name is offered
    if (copy && copy.capitalised(next)) next = pick(copyBonus(generated, copy.values, copy.bias, true));
    if (next === eot) break;
    out.push(next);
  }
  return out.slice(prompt.length);
}
