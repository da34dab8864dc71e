import { ClipwiseDataError, assertInteger } from '../errors.js';
import type { PromptCompletion, TextTokenizer } from './tokenizer.js';

/** Token arrays for causal-LM fine-tuning, all row-major [numExamples, seqLength]. */
export interface EncodedExamples {
  /** Prompt tokens, target tokens, EOT, then padding. */
  readonly inputIds: Int32Array;
  /**
   * 1 where the token is a target (the completion's tokens and the EOT after them), 0 on prompt
   * and padding. The loss term predicting token t from position t−1 is kept iff labelMask[t] = 1.
   */
  readonly labelMask: Uint8Array;
  /** 1 on real tokens (prompt, target, EOT), 0 on padding. */
  readonly attentionMask: Uint8Array;
  /** Number of real tokens per row. */
  readonly lengths: Int32Array;
  readonly numExamples: number;
  /** T: the row length. */
  readonly seqLength: number;
  /** Rows cut at `maxLength` (their EOT, and maybe target tokens, are lost). */
  readonly numTruncated: number;
}

/** Options of {@link encodePromptCompletions}. */
export interface EncodeOptions {
  /** Longest row, in tokens; longer examples are cut at the end (their target's tail and EOT dropped). */
  readonly maxLength: number;
  /** 'maxLength' (default): every row has maxLength tokens, a fixed shape. 'longest': rows as long as the longest example (≤ maxLength). */
  readonly padTo?: 'maxLength' | 'longest';
  /** Padding id; default the tokenizer's EOT (padding is masked out of attention and loss anyway). */
  readonly padToken?: number;
}

/**
 * Tokenises prompt/completion examples for causal-LM fine-tuning with a loss on the completion
 * only (the setup of Li et al., "Large Language Models Can Be Strong Differentially Private
 * Learners", 2022, for E2E and DART). Each row is `encode(prompt) ++ encode(completion) ++ [EOT]`,
 * padded. Prompt and completion are encoded separately so the mask boundary is exact; with GPT-2's
 * BPE, start the completion with a space (as `formatE2E` does) so this equals encoding the joined text.
 *
 * @example
 * ```ts
 * const enc = encodePromptCompletions([{ prompt: 'Q: 2+2? A:', completion: ' 4' }], tokenizer, { maxLength: 64 });
 * enc.inputIds;  // Int32Array [1 × 64]
 * enc.labelMask; // 1 on the tokens of ' 4' and the EOT
 * ```
 */
export function encodePromptCompletions(
  examples: readonly PromptCompletion[],
  tokenizer: TextTokenizer,
  options: EncodeOptions,
): EncodedExamples {
  assertInteger(options.maxLength, 'maxLength', 2);
  const padToken = options.padToken ?? tokenizer.eotToken;
  const rows = examples.map((ex, index) => {
    const prompt = tokenizer.encode(ex.prompt);
    const target = [...tokenizer.encode(ex.completion), tokenizer.eotToken];
    if (prompt.length >= options.maxLength) {
      throw new ClipwiseDataError(
        `example ${index}: prompt has ${prompt.length} tokens, leaving no room for the target within maxLength ${options.maxLength}; ` +
          `raise maxLength above the longest prompt or shorten the prompt.`,
      );
    }
    return { prompt, target };
  });
  const longest = rows.reduce((m, r) => Math.max(m, r.prompt.length + r.target.length), 0);
  const seqLength = options.padTo === 'longest' ? Math.min(longest, options.maxLength) : options.maxLength;
  const n = rows.length;
  const inputIds = new Int32Array(n * seqLength).fill(padToken);
  const labelMask = new Uint8Array(n * seqLength);
  const attentionMask = new Uint8Array(n * seqLength);
  const lengths = new Int32Array(n);
  let numTruncated = 0;
  rows.forEach(({ prompt, target }, i) => {
    const base = i * seqLength;
    const total = prompt.length + target.length;
    if (total > seqLength) numTruncated++;
    const length = Math.min(total, seqLength);
    for (let t = 0; t < length; t++) {
      const isTarget = t >= prompt.length;
      inputIds[base + t] = isTarget ? target[t - prompt.length] : prompt[t];
      labelMask[base + t] = isTarget ? 1 : 0;
      attentionMask[base + t] = 1;
    }
    lengths[i] = length;
  });
  return { inputIds, labelMask, attentionMask, lengths, numExamples: n, seqLength, numTruncated };
}
