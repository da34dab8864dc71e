import { readFile } from 'node:fs/promises';
import { ClipwiseDataError } from '../errors.js';
import { jsonlPromptCompletions, jsonlTexts, parseJsonl } from '../text/jsonl.js';
import type { PromptCompletion } from '../text/tokenizer.js';

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new ClipwiseDataError(`${file}: cannot read JSONL file (${(cause as Error).message}); check the path.`, { cause });
  }
}

/**
 * Texts of a JSONL file whose lines are objects with a string field (default `text`), for
 * language modelling (`textToBlocks`) or classification.
 *
 * @example
 * ```ts
 * const texts = await readJsonlTexts('corpus.jsonl', { field: 'content' });
 * ```
 */
export async function readJsonlTexts(file: string, options: { field?: string } = {}): Promise<string[]> {
  return jsonlTexts(parseJsonl(await readText(file), file), file, options.field);
}

/**
 * Prompt/completion pairs of a JSONL file (fields `prompt` and `completion` by default), ready for
 * `encodePromptCompletions`.
 *
 * @example
 * ```ts
 * const pairs = await readJsonlPromptCompletions('sft.jsonl', { promptField: 'question', completionField: 'answer' });
 * ```
 */
export async function readJsonlPromptCompletions(
  file: string,
  options: { promptField?: string; completionField?: string } = {},
): Promise<PromptCompletion[]> {
  return jsonlPromptCompletions(parseJsonl(await readText(file), file), file, options);
}
