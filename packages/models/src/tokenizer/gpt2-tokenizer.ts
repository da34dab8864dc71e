import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { checkTokenIds } from './check-token-ids.js';
import { loadGpt2Bpe } from './load-gpt2-bpe.js';
import { EOT_TEXT, type EncodeOptions, type Tokenizer } from './tokenizer.js';

const GPT2_EOT = 50256;
const GPT2_VOCAB = 50257;

/**
 * The GPT-2 byte-level BPE tokenizer (Radford et al. 2019, "Language Models are Unsupervised
 * Multitask Learners"), identical to Hugging Face's `GPT2TokenizerFast` and tiktoken's `gpt2`
 * encoding. Works offline: the ranks ship with js-tiktoken and are loaded on first construction
 * (0.3–0.6 s once per process on a 2-core machine; later constructions reuse them).
 *
 * `<|endoftext|>` in text is encoded as plain text (7 tokens) unless `encode(text, { allowSpecial:
 * true })` is asked for, in which case it becomes {@link eotToken} (50256).
 *
 * @example
 * ```ts
 * import { Gpt2Tokenizer } from '@clipwise/models';
 * const tok = new Gpt2Tokenizer();
 * tok.encode('Hello world'); // [15496, 995]
 * tok.decode([15496, 995]); // 'Hello world'
 * tok.encode('a<|endoftext|>', { allowSpecial: true }); // [64, 50256]
 * ```
 */
export class Gpt2Tokenizer implements Tokenizer {
  readonly eotToken = GPT2_EOT;
  readonly vocabSize = GPT2_VOCAB;
  private readonly bpe: Tiktoken;

  /**
   * @param ranks the gpt2 ranks object (`import ranks from 'js-tiktoken/ranks/gpt2'`); pass it where
   *   `require` is unavailable (browsers). By default it is loaded from js-tiktoken.
   */
  constructor(ranks?: TiktokenBPE) {
    if (ranks === undefined) {
      this.bpe = loadGpt2Bpe();
      return;
    }
    if (ranks.special_tokens?.[EOT_TEXT] !== GPT2_EOT) {
      throw new ClipwiseModelError(
        `Gpt2Tokenizer: the ranks given map ${EOT_TEXT} to ${ranks.special_tokens?.[EOT_TEXT]}, expected ${GPT2_EOT}. ` +
          "Fix: pass the gpt2 ranks (import ranks from 'js-tiktoken/ranks/gpt2'), or omit the argument.",
      );
    }
    this.bpe = new Tiktoken(ranks);
  }

  /** GPT-2 token ids of `text`; see the class doc for `<|endoftext|>`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.bpe.encode(text, options.allowSpecial ? 'all' : [], []);
  }

  /** Text of `ids` (50256 decodes to `<|endoftext|>`); throws naming any id outside the vocabulary. */
  decode(ids: number[]): string {
    checkTokenIds(ids, GPT2_VOCAB, 'Gpt2Tokenizer');
    return this.bpe.decode(ids);
  }
}
