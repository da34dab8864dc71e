import { ClipwiseDataError, assertInteger } from '../errors.js';
import type { TextTokenizer } from './tokenizer.js';

/** Fixed-length token blocks for language modelling, row-major [numBlocks, blockLength]. */
export interface TokenBlocks {
  readonly inputIds: Int32Array;
  readonly numBlocks: number;
  readonly blockLength: number;
  /** Tokens in the whole text. */
  readonly numTokens: number;
  /** Tokens at the end that did not fill a block (dropped). */
  readonly droppedTokens: number;
}

/** Options of {@link tokensToBlocks} and friends. */
export interface BlockOptions {
  /** T: tokens per block (the model's context length or less). */
  readonly blockLength: number;
  /** Start of block k+1 minus start of block k; default blockLength (no overlap). */
  readonly stride?: number;
}

/**
 * Cuts a token stream into blocks of `blockLength` tokens (Hugging Face `run_clm`'s `group_texts`):
 * the model is trained to predict each token from those before it in the block, so inputs are
 * the labels and the model shifts them. The tail shorter than a block is dropped.
 *
 * @example
 * ```ts
 * tokensToBlocks([1, 2, 3, 4, 5, 6, 7], { blockLength: 3 }); // inputIds [1,2,3, 4,5,6], droppedTokens 1
 * ```
 */
export function tokensToBlocks(tokens: ArrayLike<number>, options: BlockOptions): TokenBlocks {
  assertInteger(options.blockLength, 'blockLength', 2);
  const stride = options.stride ?? options.blockLength;
  assertInteger(stride, 'stride', 1, options.blockLength);
  const n = tokens.length;
  if (n < options.blockLength) {
    throw new ClipwiseDataError(
      `the text has ${n} tokens, fewer than one block of ${options.blockLength}; use a longer text or a smaller blockLength.`,
    );
  }
  const numBlocks = Math.floor((n - options.blockLength) / stride) + 1;
  const inputIds = new Int32Array(numBlocks * options.blockLength);
  for (let b = 0; b < numBlocks; b++) {
    for (let t = 0; t < options.blockLength; t++) inputIds[b * options.blockLength + t] = tokens[b * stride + t];
  }
  const covered = (numBlocks - 1) * stride + options.blockLength;
  return { inputIds, numBlocks, blockLength: options.blockLength, numTokens: n, droppedTokens: n - covered };
}

/**
 * Tokenises a text with the given tokenizer and cuts it into blocks (see {@link tokensToBlocks}).
 *
 * @example
 * ```ts
 * const blocks = textToBlocks(shakespeare, gpt2Tokenizer, { blockLength: 128 });
 * ```
 */
export function textToBlocks(text: string, tokenizer: TextTokenizer, options: BlockOptions): TokenBlocks {
  return tokensToBlocks(tokenizer.encode(text), options);
}
