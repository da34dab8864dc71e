import { trimGpuBufferPool } from '@clipwise/core';
import * as tf from '@tensorflow/tfjs-core';
import { formatE2EPrompt } from '@clipwise/data';
import { Gpt2Model, VitModel, type PretrainedModel, type Tokenizer } from '@clipwise/models';
import { corpusBleu } from '../metrics/bleu';
import { corpusRougeL } from '../metrics/rouge-l';
import { tokenizeForMetrics } from '../metrics/tokenize-for-metrics';
import { greedyGenerateMany, meanTargetLoss, type GenerationRequest } from './text-eval';
import type { TaskData } from './task-data';
import type { TrainConfig } from './train-config';

export interface EvalResult {
  step: number;
  loss: number;
  perplexity?: number;
  accuracy?: number;
  bleu?: number;
  rougeL?: number;
  /** MRs generated for BLEU / ROUGE-L. */
  generated?: number;
  /** The first generation, to eyeball. */
  sample?: { mr: string; output: string };
  /** The first three generations (the demo prints them before and after). */
  samples?: { mr: string; output: string }[];
}

async function imageEval(model: VitModel, data: Extract<TaskData, { kind: 'images' }>['eval'] & object, chunk = 32): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0;
  let correct = 0;
  const size = model.config.image_size;
  for (let start = 0; start < data.size; start += chunk) {
    const idx = Array.from({ length: Math.min(chunk, data.size - start) }, (_, i) => start + i);
    const both = tf.tidy(() => {
      const pixels = tf.tensor4d(data.toPixelValues(idx, { size }), [idx.length, 3, size, size]);
      const labels = tf.tensor1d(data.gatherLabels(idx), 'int32');
      const loss = tf.sum(model.perSampleLoss(pixels, labels));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(pixels), 1), labels), 'float32'));
      return tf.stack([loss, hits]);
    });
    // asynchronous read: webgpu cannot read synchronously in Node
    const [l, c] = Array.from(await both.data());
    both.dispose();
    lossSum += l!;
    correct += c!;
  }
  return { loss: lossSum / data.size, accuracy: correct / data.size };
}

/** What E2E evaluation generates, and how it decodes (`--gen-*` flags). */
export interface GenerationSettings {
  /** Greedy generations for the first N distinct MRs of the eval set (E2E). */
  readonly genLimit: number;
  /** At most this many tokens per generation. */
  readonly genTokens: number;
  readonly noRepeatNgram?: number;
  readonly copyBias?: number;
}

/** The generation settings of a run's config; `genLimit` overrides `--gen-limit` (e.g. for a test set). */
export function generationSettingsOf(config: TrainConfig, genLimit = config['gen-limit']): GenerationSettings {
  return { genLimit, genTokens: config['gen-tokens'], noRepeatNgram: config['gen-no-repeat-ngram'] ?? 0, copyBias: config['gen-copy-bias'] ?? 0 };
}

/**
 * Scores the model on the evaluation set: images → loss and accuracy; text → loss per sequence
 * (mean over its target tokens) and perplexity exp(loss); E2E → also greedy generations for the
 * first `genLimit` distinct MRs (n-grams of `noRepeatNgram` tokens blocked when > 0), scored with
 * corpus BLEU-4 and ROUGE-L against all their references. `copyBias` > 0: decoding favours copying the
 * MR's names ({@link mrCopyValues}, `--gen-copy-bias`).
 */
export async function evaluate(model: PretrainedModel, data: TaskData, step: number, { genLimit, genTokens, noRepeatNgram = 0, copyBias = 0 }: GenerationSettings): Promise<EvalResult | null> {
  if (!data.eval) return null;
  if (data.kind === 'images') return { step, ...(await imageEval(model as VitModel, data.eval)) };
  const gpt = model as Gpt2Model;
  const loss = await meanTargetLoss(gpt, data.eval.inputIds, data.eval.labelMask, data.eval.n, data.eval.t);
  const result: EvalResult = { step, loss, perplexity: Math.exp(loss) };
  if (data.kind === 'e2e' && data.evalRefs && genLimit > 0) {
    const mrs = [...data.evalRefs.keys()].slice(0, genLimit);
    // every decoding step is a new width, so new buffer sizes for webgpu's pool: trimmed as they go
    const generated = await greedyGenerateMany(gpt, e2eGenerationRequests(mrs, data.tokenizer, copyBias), genTokens, data.tokenizer.eotToken, {
      noRepeatNgram, afterStep: () => trimGpuBufferPool(),
    });
    const outputs = generated.map((tokens) => data.tokenizer.decode(tokens).trim());
    const cands = outputs.map(tokenizeForMetrics);
    const refs = mrs.map((mr) => data.evalRefs!.get(mr)!.map(tokenizeForMetrics));
    result.bleu = corpusBleu(cands, refs).bleu;
    result.rougeL = corpusRougeL(cands, refs);
    result.generated = mrs.length;
    result.sample = { mr: mrs[0]!, output: outputs[0]! };
    result.samples = mrs.slice(0, 3).map((mr, i) => ({ mr, output: outputs[i]! }));
  }
  return result;
}

/**
 * The prompts E2E evaluation decodes, one per MR (`formatE2EPrompt`), each with its MR's names to copy
 * where `copyBias` > 0 ({@link mrCopyValues}; offered where the model would begin a capitalised word).
 *
 * @example
 * const outs = await greedyGenerateMany(model, e2eGenerationRequests(mrs, tokenizer, 8), 48, tokenizer.eotToken, { noRepeatNgram: 3 });
 */
export function e2eGenerationRequests(mrs: readonly string[], tokenizer: Tokenizer, copyBias: number): GenerationRequest[] {
  const capitalisedCache = new Map<number, boolean>();
  const capitalised = (token: number) => {
    let c = capitalisedCache.get(token);
    if (c === undefined) capitalisedCache.set(token, (c = /^ ?\p{Lu}/u.test(tokenizer.decode([token]))));
    return c;
  };
  return mrs.map((mr) => ({
    prompt: tokenizer.encode(formatE2EPrompt(mr)),
    copy: copyBias > 0 ? { values: mrCopyValues(mr).map((v) => tokenizer.encode(` ${v}`)), bias: copyBias, capitalised } : undefined,
  }));
}

/**
 * The values of an MR (`key[value], ...`) that `--gen-copy-bias` favours, in MR order: names, i.e. values
 * whose every word begins with a capital letter (`name[Blue Spice]`, `near[The Mill]`), which a sentence
 * writes as they are; other values are often reworded (`familyFriendly[yes]`, `food[Fast food]`).
 */
export function mrCopyValues(mr: string): string[] {
  return [...mr.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!.trim()).filter((v) => v !== '' && v.split(/\s+/).every((w) => /^\p{Lu}/u.test(w)));
}
