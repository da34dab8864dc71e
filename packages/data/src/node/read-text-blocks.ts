import { readFile } from 'node:fs/promises';
import { ClipwiseDataError } from '../errors.js';
import { textToBlocks, type BlockOptions, type TokenBlocks } from '../text/lm-blocks.js';
import type { TextTokenizer } from '../text/tokenizer.js';

/**
 * Reads a UTF-8 text file (e.g. `tinyshakespeare.txt`) and cuts its tokens into blocks.
 *
 * @example
 * ```ts
 * const blocks = await readTextBlocks('../shared/data/text/tinyshakespeare.txt', gpt2Tokenizer, { blockLength: 256 });
 * ```
 */
export async function readTextBlocks(file: string, tokenizer: TextTokenizer, options: BlockOptions): Promise<TokenBlocks> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ClipwiseDataError(`${file}: cannot read text file (${(cause as Error).message}); check the path.`, { cause });
  }
  return textToBlocks(text, tokenizer, options);
}
