import { ClipwiseModelError } from '../clipwise-model-error.js';
import { checkTokenIds } from './check-token-ids.js';
import { gpt2TokenBytes, loadGpt2Bpe } from './load-gpt2-bpe.js';
import { EOT_TEXT, type Tokenizer } from './tokenizer.js';

/** Serialisable vocabulary of a {@link Gpt2SubsetTokenizer}: the GPT-2 ids it keeps, in its id order. */
export interface Gpt2SubsetVocab {
  readonly gpt2Ids: readonly number[];
}

const GPT2_EOT = 50256;

/**
 * GPT-2's byte-level BPE cut down to a small vocabulary: ids 0..255 are the UTF-8 bytes, then the
 * kept multi-byte GPT-2 tokens, then end-of-text. Text is split by GPT-2's BPE; a GPT-2 token that
 * is not kept is split greedily into the longest kept tokens (bytes at worst), so every string
 * round-trips and no word is unknown (a restaurant name the vocabulary never saw costs a few more
 * tokens, not an `<unk>`). Small models
 * get GPT-2's segmentation with an embedding of a few thousand rows instead of 50,257.
 *
 * Fit the kept set on public text only ({@link Gpt2SubsetTokenizer.fit}): the vocabulary is
 * released with the model, so fitting it on private data would leak which tokens that data holds.
 *
 * @example
 * ```ts
 * const tok = Gpt2SubsetTokenizer.fit([publicText], 4096); // vocabSize 4096
 * tok.decode(tok.encode('The Eagle is a pub.')); // 'The Eagle is a pub.'
 * ```
 */
export class Gpt2SubsetTokenizer implements Tokenizer {
  readonly eotToken: number;
  readonly vocabSize: number;
  private readonly ours = new Map<number, number>(); // GPT-2 id → our id
  private readonly bytesOf: Uint8Array[] = [];
  private readonly byBytes = new Map<string, number>(); // a kept token's bytes (joined) → our id
  private readonly longest: number; // bytes of the longest kept token
  private readonly split = new Map<number, number[]>(); // GPT-2 id not kept → our ids, memoised
  private readonly decoder = new TextDecoder('utf-8');

  constructor(readonly vocab: Gpt2SubsetVocab) {
    const ids = vocab.gpt2Ids;
    if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id) || id < 0 || id >= GPT2_EOT)) {
      throw new ClipwiseModelError('Gpt2SubsetTokenizer: gpt2Ids must be GPT-2 token ids, integers in [0, 50256)');
    }
    for (let b = 0; b < 256; b++) this.bytesOf.push(Uint8Array.of(b));
    for (const id of ids) {
      const bytes = gpt2TokenBytes(id);
      if (bytes.length < 2) throw new ClipwiseModelError(`Gpt2SubsetTokenizer: GPT-2 id ${id} is a single byte, which ids 0..255 already cover`);
      if (this.ours.has(id)) throw new ClipwiseModelError(`Gpt2SubsetTokenizer: GPT-2 id ${id} is listed twice`);
      this.ours.set(id, this.bytesOf.length);
      this.byBytes.set(bytes.join(','), this.bytesOf.length);
      this.bytesOf.push(bytes);
    }
    this.longest = this.bytesOf.reduce((m, b) => Math.max(m, b.length), 1);
    this.eotToken = this.bytesOf.length;
    this.vocabSize = this.eotToken + 1;
  }

  /**
   * Keeps the `vocabSize − 257` multi-byte GPT-2 tokens most frequent in `texts` (seen at least
   * twice; ties by GPT-2 id), so the vocabulary is `vocabSize` or smaller.
   */
  static fit(texts: Iterable<string>, vocabSize: number): Gpt2SubsetTokenizer {
    if (!Number.isInteger(vocabSize) || vocabSize < 257) throw new ClipwiseModelError(`Gpt2SubsetTokenizer.fit: vocabSize ${vocabSize}, expected an integer ≥ 257 (256 bytes + end-of-text)`);
    const bpe = loadGpt2Bpe();
    const counts = new Map<number, number>();
    for (const text of texts) for (const id of bpe.encode(text, [], [])) counts.set(id, (counts.get(id) ?? 0) + 1);
    const kept = [...counts]
      .filter(([id, c]) => c >= 2 && id !== GPT2_EOT && gpt2TokenBytes(id).length >= 2)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, vocabSize - 257)
      .map(([id]) => id);
    return new Gpt2SubsetTokenizer({ gpt2Ids: kept });
  }

  /** Token ids of `text`; `<|endoftext|>` in text is encoded as plain text. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const id of loadGpt2Bpe().encode(text, [], [])) {
      const mine = this.ours.get(id);
      if (mine !== undefined) out.push(mine);
      else out.push(...this.splitToken(id));
    }
    return out;
  }

  /** A GPT-2 token that is not kept, as the longest kept tokens from its left (single bytes at worst). */
  private splitToken(id: number): number[] {
    let ids = this.split.get(id);
    if (ids) return ids;
    const bytes = gpt2TokenBytes(id);
    ids = [];
    for (let at = 0; at < bytes.length; ) {
      let len = Math.min(this.longest, bytes.length - at);
      for (; len > 1; len--) {
        const mine = this.byBytes.get(bytes.subarray(at, at + len).join(','));
        if (mine !== undefined) {
          ids.push(mine);
          break;
        }
      }
      if (len === 1) ids.push(bytes[at]!);
      at += len;
    }
    this.split.set(id, ids);
    return ids;
  }

  /** Text of `ids`: the end-of-text id decodes to `<|endoftext|>`, invalid UTF-8 to U+FFFD. */
  decode(ids: number[]): string {
    checkTokenIds(ids, this.vocabSize, 'Gpt2SubsetTokenizer');
    let text = '';
    let run: number[] = [];
    const flush = () => {
      const bytes = new Uint8Array(run.reduce((n, id) => n + this.bytesOf[id]!.length, 0));
      let at = 0;
      for (const id of run) {
        bytes.set(this.bytesOf[id]!, at);
        at += this.bytesOf[id]!.length;
      }
      text += this.decoder.decode(bytes);
      run = [];
    };
    for (const id of ids) {
      if (id === this.eotToken) {
        flush();
        text += EOT_TEXT;
      } else run.push(id);
    }
    flush();
    return text;
  }

  toJSON(): Gpt2SubsetVocab {
    return { gpt2Ids: [...this.vocab.gpt2Ids] };
  }
}
