import { describe, expect, it } from 'vitest';
import { Gpt2SubsetTokenizer } from './gpt2-subset-tokenizer.js';
import { Gpt2Tokenizer } from './gpt2-tokenizer.js';

const corpus = ['The Eagle is a pub near the river. The Eagle is cheap.', 'A pub is a place; the river is near.'];

describe('Gpt2SubsetTokenizer', () => {
  it('keeps the most frequent multi-byte GPT-2 tokens, at most vocabSize in all', () => {
    const tok = Gpt2SubsetTokenizer.fit(corpus, 260);
    expect(tok.vocabSize).toBe(260);
    expect(tok.eotToken).toBe(259);
    const gpt2 = new Gpt2Tokenizer();
    // brute force: count GPT-2 tokens of ≥ 2 bytes seen at least twice
    const counts = new Map<number, number>();
    for (const t of corpus) for (const id of gpt2.encode(t)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const multi = [...counts].filter(([id, c]) => c >= 2 && new TextEncoder().encode(gpt2.decode([id])).length >= 2);
    const top = multi.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3).map(([id]) => id);
    expect(tok.toJSON().gpt2Ids).toEqual(top);
  });

  it('round-trips any text, spelling tokens it does not keep as bytes', () => {
    const tok = Gpt2SubsetTokenizer.fit(corpus, 4096);
    for (const s of ['The Eagle is a pub near the river.', 'Zizzi: £20-25, café Adriatic 😀', '', '  two  spaces\n']) {
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
    const ids = tok.encode('The Eagle xyzzy');
    expect(ids.every((id) => id >= 0 && id < tok.eotToken)).toBe(true);
    expect(tok.decode(ids.slice(-3))).toBe(' xyzzy'.slice(-3)); // never seen: bytes
    expect(tok.decode([ids.at(-3)!])).toBe('z');
    expect(tok.encode(' Eagle').length).toBe(1); // kept: one token
  });

  it('splits a token it does not keep into the longest kept tokens', () => {
    const tok = Gpt2SubsetTokenizer.fit(['river river river', ' riv riv'], 300);
    const gpt2 = new Gpt2Tokenizer();
    expect(gpt2.encode(' rivers')).toHaveLength(1); // one GPT-2 token, not kept here
    expect(tok.encode(' rivers').map((id) => tok.decode([id]))).toEqual([' river', 's']);
  });

  it('decodes end-of-text and restores from its JSON', () => {
    const tok = Gpt2SubsetTokenizer.fit(corpus, 300);
    const again = new Gpt2SubsetTokenizer(JSON.parse(JSON.stringify(tok)));
    expect(again.encode('The river pub')).toEqual(tok.encode('The river pub'));
    expect(again.decode([...tok.encode('a'), tok.eotToken])).toBe('a<|endoftext|>');
  });

  it('rejects bad vocabularies and ids with a message naming them', () => {
    expect(() => new Gpt2SubsetTokenizer({ gpt2Ids: [64] })).toThrow(/single byte/);
    expect(() => new Gpt2SubsetTokenizer({ gpt2Ids: [50256] })).toThrow(/\[0, 50256\)/);
    expect(() => Gpt2SubsetTokenizer.fit(corpus, 10)).toThrow(/≥ 257/);
    expect(() => Gpt2SubsetTokenizer.fit(corpus, 300).decode([300])).toThrow(/ids\[0\] is 300/);
  });
});
