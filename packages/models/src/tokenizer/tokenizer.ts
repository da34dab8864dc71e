/**
 * Text ↔ token ids, as the models and data pipelines see it. Implemented by {@link Gpt2Tokenizer}
 * (the real GPT-2 BPE, 50257 tokens) and {@link ByteTokenizer} (UTF-8 bytes, 257 tokens, for tiny
 * test models).
 *
 * @example
 * ```ts
 * import { ByteTokenizer, type Tokenizer } from '@clipwise/models';
 * const tok: Tokenizer = new ByteTokenizer();
 * const ids = [...tok.encode('hi'), tok.eotToken]; // [104, 105, 256]
 * ```
 */
export interface Tokenizer {
  /** Token ids of `text`. Special-token strings such as `<|endoftext|>` are encoded as plain text. */
  encode(text: string): number[];
  /** Text of `ids`; byte sequences that are not valid UTF-8 become U+FFFD. */
  decode(ids: number[]): string;
  /** Id of the end-of-text token, which separates documents. */
  readonly eotToken: number;
  /** Number of token ids: every id is an integer in `[0, vocabSize)`. */
  readonly vocabSize: number;
}

/** Options of `encode` for the built-in tokenizers. */
export interface EncodeOptions {
  /**
   * When true, each `<|endoftext|>` in the text becomes the EOT token. By default (false) it is
   * encoded as ordinary text, so untrusted text cannot inject document boundaries.
   */
  readonly allowSpecial?: boolean;
}

/** The end-of-text marker as it appears in text (GPT-2's only special token). */
export const EOT_TEXT = '<|endoftext|>';
