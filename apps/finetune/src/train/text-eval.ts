import * as tf from '@tensorflow/tfjs-core';
import { Gpt2KvCache, type Gpt2Model } from '@clipwise/models';

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
 * capitalised word. One prompt of {@link greedyGenerateMany}.
 */
export async function greedyGenerate(model: Gpt2Model, prompt: number[], maxNew: number, eot: number, { noRepeatNgram = 0, copy }: GenerateOptions = {}): Promise<number[]> {
  return (await greedyGenerateMany(model, [{ prompt, copy }], maxNew, eot, { noRepeatNgram }))[0]!;
}

/** One prompt of {@link greedyGenerateMany}, with the values it may copy (an E2E MR's own). */
export interface GenerationRequest {
  readonly prompt: readonly number[];
  readonly copy?: GenerateOptions['copy'];
}

/** Options of {@link greedyGenerateMany}. */
export interface GenerateManyOptions {
  /** Block repeated n-grams of this many tokens of each output (0: off). */
  readonly noRepeatNgram?: number;
  /** Prompts decoded together, at most (default 32): the rows of one forward pass per token. */
  readonly batch?: number;
  /** Called after each decoding step's read (e.g. to trim webgpu's buffer pool: every step is a new width). */
  readonly afterStep?: () => void;
}

/**
 * {@link greedyGenerate} of several prompts, `batch` at a time: the prompts, left-padded to the longest,
 * run once, then each decoding step runs the model on each unfinished row's one new token against its
 * cached keys and values (models' `Gpt2KvCache`), and reads each row's next-token scores once. A row's
 * padding is masked and its positions count from its own first token, so every output is the one
 * `greedyGenerate` gives for that prompt alone. Why: a small model's decoding step is mostly fixed costs
 * (its launches, one read), which the rows share, and the cache spares the prefix's recomputation
 * (wasm, the demo's model, 24 MRs, `bench/generation.ts`: 8.46 s batched without the cache, 0.77 s with it).
 *
 * @example
 * const outs = await greedyGenerateMany(model, mrs.map((mr) => ({ prompt: tok.encode(formatE2EPrompt(mr)) })), 40, tok.eotToken, { noRepeatNgram: 3 });
 */
export async function greedyGenerateMany(
  model: Gpt2Model, requests: readonly GenerationRequest[], maxNew: number, eot: number, { noRepeatNgram = 0, batch = 32, afterStep }: GenerateManyOptions = {},
): Promise<number[][]> {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`greedyGenerateMany: batch must be a positive integer, got ${batch}`);
  const empty = requests.findIndex((r) => r.prompt.length === 0);
  if (empty >= 0) throw new RangeError(`greedyGenerateMany: prompt ${empty} is empty; greedy decoding needs at least one token to continue`);
  const outputs: number[][] = [];
  for (let start = 0; start < requests.length; start += batch) {
    outputs.push(...(await decodeRows(model, requests.slice(start, start + batch), maxNew, eot, noRepeatNgram, afterStep)));
  }
  return outputs;
}

/**
 * Greedy decoding of `requests` as the rows of one batch; the generated tokens of each. The prompts run
 * once (`Gpt2KvCache.prefill`), then each step runs the model on the rows' one new token each, against
 * their cached keys and values; a row that is done leaves the cache.
 */
async function decodeRows(model: Gpt2Model, requests: readonly GenerationRequest[], maxNew: number, eot: number, noRepeatNgram: number, afterStep?: () => void): Promise<number[][]> {
  const limit = model.config.n_positions;
  const rows = requests.map((r) => ({ prompt: r.prompt, generated: [] as number[], copy: r.copy }));
  // a row is done at eot, or where its context is full (as one prompt alone: nothing generated past n_positions)
  const room = (r: (typeof rows)[number]) => r.prompt.length + r.generated.length < limit;
  let active = rows.filter(room);
  if (maxNew < 1 || active.length === 0) return rows.map((r) => r.generated);
  let { cache, logits } = Gpt2KvCache.prefill(model, active.map((r) => r.prompt));
  try {
    for (let step = 0; ; step++) {
      const all = (await logits.data()) as Float32Array;
      const vocab = logits.shape[1];
      logits.dispose();
      afterStep?.();
      const appended = active.map((r, i) => {
        const next = nextToken(all.subarray(i * vocab, (i + 1) * vocab), r.generated, noRepeatNgram, r.copy);
        if (next !== eot) r.generated.push(next);
        return next;
      });
      // the rows that go on: those whose token was not eot and whose context has room for one more
      const kept = active.flatMap((r, i) => (appended[i] !== eot && room(r) ? [i] : []));
      if (step + 1 >= maxNew || kept.length === 0) break;
      if (kept.length < active.length) cache.keepRows(kept);
      logits = cache.step(kept.map((i) => appended[i]!));
      active = kept.map((i) => active[i]!);
    }
  } finally {
    cache.dispose();
  }
  return rows.map((r) => r.generated);
}

/** The greedy choice from one row's scores: n-gram blocking, then the copy bias (see {@link greedyGenerate}). */
function nextToken(scores: Float32Array, generated: readonly number[], noRepeatNgram: number, copy: GenerateOptions['copy']): number {
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
  return next;
}
