import type { E2EPair } from './e2e-csv.js';
import { encodePromptCompletions, type EncodeOptions, type EncodedExamples } from './prompt-completion.js';
import type { PromptCompletion, TextTokenizer } from './tokenizer.js';

/**
 * Separator between the meaning representation and the text in E2E prompts: a plain-text `||`
 * (the separator of the E2E files used by Li & Liang's prefix-tuning code), so any tokenizer
 * encodes it without special-token handling. Never occurs in E2E meaning representations.
 */
export const E2E_SEPARATOR = '||';

/**
 * The prompt the model sees for a meaning representation: `mr + ' ' + E2E_SEPARATOR`.
 * Use it for generation at evaluation time.
 *
 * @example
 * ```ts
 * formatE2EPrompt('name[X], food[Thai]'); // 'name[X], food[Thai] ||'
 * ```
 */
export function formatE2EPrompt(mr: string): string {
  return `${mr} ${E2E_SEPARATOR}`;
}

/**
 * A training text: `mr + ' ' + E2E_SEPARATOR + ' ' + ref`. The model learns to continue the prompt
 * ({@link formatE2EPrompt}) with `' ' + ref` followed by the end-of-text token.
 *
 * @example
 * ```ts
 * formatE2E('name[X], food[Thai]', 'X serves Thai food.'); // 'name[X], food[Thai] || X serves Thai food.'
 * ```
 */
export function formatE2E(mr: string, ref: string): string {
  return `${formatE2EPrompt(mr)} ${ref}`;
}

/** The prompt/completion split of {@link formatE2E}: the completion keeps its leading space. */
export function e2eToPromptCompletion(pair: E2EPair): PromptCompletion {
  return { prompt: formatE2EPrompt(pair.mr), completion: ` ${pair.ref}` };
}

/**
 * Tokenised E2E training rows: `formatE2E(mr, ref)` + EOT, with the loss mask on the reference and
 * EOT only. See {@link encodePromptCompletions} for the layout and options.
 *
 * @example
 * ```ts
 * const train = encodeE2E(await readE2ECsv('devset.csv'), gpt2Tokenizer, { maxLength: 128 });
 * // train.inputIds: Int32Array [N × 128], train.labelMask: Uint8Array [N × 128]
 * ```
 */
export function encodeE2E(pairs: readonly E2EPair[], tokenizer: TextTokenizer, options: EncodeOptions): EncodedExamples {
  return encodePromptCompletions(pairs.map(e2eToPromptCompletion), tokenizer, options);
}

/**
 * References grouped by meaning representation, in first-seen order, for multi-reference BLEU /
 * ROUGE-L / METEOR: generate once per key, score against all its refs.
 *
 * @example
 * ```ts
 * const groups = groupReferencesByMr(await readE2ECsv('testset_w_refs.csv')); // 630 MRs
 * for (const [mr, refs] of groups) score(generate(formatE2EPrompt(mr)), refs);
 * ```
 */
export function groupReferencesByMr(pairs: readonly E2EPair[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { mr, ref } of pairs) {
    const refs = groups.get(mr);
    if (refs) refs.push(ref);
    else groups.set(mr, [ref]);
  }
  return groups;
}
