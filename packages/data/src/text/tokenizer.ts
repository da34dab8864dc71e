/**
 * The tokenizer interface the text loaders need. The GPT-2 BPE tokenizer of `@clipwise/models`
 * satisfies it; tests use a character-level stand-in.
 *
 * @example
 * ```ts
 * const charTokenizer: TextTokenizer = { encode: (t) => [...t].map((c) => c.charCodeAt(0)), eotToken: 0 };
 * ```
 */
export interface TextTokenizer {
  /** Token ids of `text`, without special tokens added. */
  encode(text: string): number[];
  /** End-of-text id (GPT-2: 50256 `<|endoftext|>`), appended after every target and used as padding. */
  readonly eotToken: number;
}

/** One supervised example: the model reads `prompt` and learns to write `completion`. */
export interface PromptCompletion {
  readonly prompt: string;
  readonly completion: string;
}
