import { checkTokenIds } from './check-token-ids.js';
import { EOT_TEXT, type EncodeOptions, type Tokenizer } from './tokenizer.js';

/**
 * A tokenizer whose tokens are the UTF-8 bytes of the text (ids 0..255) plus an end-of-text token
 * (256): vocabulary 257. For tiny test models and the embedded demo, where GPT-2's 50257-row
 * embedding would dwarf the model. Loads nothing; any string round-trips exactly.
 *
 * @example
 * ```ts
 * import { ByteTokenizer } from '@clipwise/models';
 * const tok = new ByteTokenizer();
 * tok.encode('é'); // [195, 169]
 * tok.decode([104, 105, 256]); // 'hi<|endoftext|>'
 * ```
 */
export class ByteTokenizer implements Tokenizer {
  readonly eotToken = 256;
  readonly vocabSize = 257;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder('utf-8');

  /**
   * UTF-8 bytes of `text`. `<|endoftext|>` is encoded as its 13 bytes unless `allowSpecial` is true,
   * in which case it becomes 256.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (!options.allowSpecial) return Array.from(this.encoder.encode(text));
    const ids: number[] = [];
    text.split(EOT_TEXT).forEach((piece, i) => {
      if (i > 0) ids.push(this.eotToken);
      for (const b of this.encoder.encode(piece)) ids.push(b);
    });
    return ids;
  }

  /** Text of `ids`: 256 decodes to `<|endoftext|>`, invalid UTF-8 to U+FFFD; other ids throw. */
  decode(ids: number[]): string {
    checkTokenIds(ids, this.vocabSize, 'ByteTokenizer');
    let text = '';
    let start = 0;
    for (let i = 0; i <= ids.length; i++) {
      if (i === ids.length || ids[i] === this.eotToken) {
        text += this.decoder.decode(Uint8Array.from(ids.slice(start, i)));
        if (i < ids.length) text += EOT_TEXT;
        start = i + 1;
      }
    }
    return text;
  }
}
