import { ClipwiseModelError } from '../clipwise-model-error.js';
import type { Tokenizer } from './tokenizer.js';

const PIECES = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;
const NO_SPACE_BEFORE = /^[.,;:!?)\]}'%]$/;

/** Serialisable vocabulary of a `WordTokenizer`. */
export interface WordVocab {
  readonly words: readonly string[];
}

/**
 * A word-level tokenizer fitted on a corpus: words and punctuation marks are tokens, id 0 is the
 * end-of-text token and id 1 stands for unknown words. Small vocabularies keep tiny models (the
 * embedded demo, tests) fast where GPT-2's 50,257-token BPE would dominate the cost. Spaces are not
 * kept: `decode` joins words with spaces and attaches punctuation.
 *
 * @example
 * const tok = WordTokenizer.fit(['The Eagle is a pub.', 'It is cheap.']);
 * tok.decode(tok.encode('The pub is cheap.')); // 'The pub is cheap.'
 */
export class WordTokenizer implements Tokenizer {
  readonly eotToken = 0;
  readonly unkToken = 1;
  private readonly ids: Map<string, number>;

  constructor(readonly vocab: WordVocab) {
    if (vocab.words[0] !== '<|endoftext|>' || vocab.words[1] !== '<unk>') {
      throw new ClipwiseModelError('WordTokenizer vocabulary must start with <|endoftext|> and <unk>');
    }
    this.ids = new Map(vocab.words.map((w, i) => [w, i]));
  }

  /** Vocabulary of the words seen at least `minCount` times, most frequent first (ties by first use). */
  static fit(texts: Iterable<string>, minCount = 1): WordTokenizer {
    const counts = new Map<string, number>();
    for (const text of texts) for (const w of text.match(PIECES) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words = [...counts].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1]).map(([w]) => w);
    return new WordTokenizer({ words: ['<|endoftext|>', '<unk>', ...words] });
  }

  get vocabSize(): number {
    return this.vocab.words.length;
  }

  encode(text: string): number[] {
    return (text.match(PIECES) ?? []).map((w) => this.ids.get(w) ?? this.unkToken);
  }

  decode(ids: number[]): string {
    let out = '';
    for (const id of ids) {
      const w = this.vocab.words[id];
      if (w === undefined) throw new ClipwiseModelError(`WordTokenizer.decode: id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      if (id === this.eotToken) continue;
      out += out === '' || NO_SPACE_BEFORE.test(w) ? w : ` ${w}`;
    }
    return out;
  }

  toJSON(): WordVocab {
    return { words: [...this.vocab.words] };
  }
}
