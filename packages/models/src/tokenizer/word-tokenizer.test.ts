import { describe, expect, it } from 'vitest';
import { WordTokenizer } from './word-tokenizer.js';

describe('WordTokenizer', () => {
  it('fits a frequency-ordered vocabulary with EOT and UNK first', () => {
    const tok = WordTokenizer.fit(['a pub, a pub.', 'a café']);
    expect(tok.vocab.words).toEqual(['<|endoftext|>', '<unk>', 'a', 'pub', ',', '.', 'café']);
    expect(tok.vocabSize).toBe(7);
  });
  it('round-trips text made of known words, and maps unknown words to <unk>', () => {
    const tok = WordTokenizer.fit(['The Eagle is a pub near Burger King.', 'It is cheap, 5 out of 5!']);
    expect(tok.decode(tok.encode('The Eagle is cheap, near Burger King!'))).toBe('The Eagle is cheap, near Burger King!');
    expect(tok.encode('The Dragon')).toEqual([tok.encode('The')[0], 1]);
    expect(tok.decode([...tok.encode('It is cheap.'), 0])).toBe('It is cheap.');
  });
  it('serialises its vocabulary and rejects bad ids', () => {
    const tok = WordTokenizer.fit(['x y z']);
    const again = new WordTokenizer(JSON.parse(JSON.stringify(tok.toJSON())));
    expect(again.encode('z y x')).toEqual(tok.encode('z y x'));
    expect(() => tok.decode([99])).toThrowError(/99/);
  });
});
