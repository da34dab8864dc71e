import { describe, expect, it } from 'vitest';
import { ByteTokenizer } from './byte-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

const tok = new ByteTokenizer();

describe('ByteTokenizer', () => {
  it('has 256 byte tokens plus EOT', () => {
    const asInterface: Tokenizer = tok;
    expect(asInterface.vocabSize).toBe(257);
    expect(asInterface.eotToken).toBe(256);
  });

  it('encodes UTF-8 bytes', () => {
    expect(tok.encode('hi')).toEqual([104, 105]);
    expect(tok.encode('é')).toEqual([0xc3, 0xa9]);
    expect(tok.encode('🙂')).toEqual([0xf0, 0x9f, 0x99, 0x82]);
    expect(tok.encode('')).toEqual([]);
  });

  it('treats <|endoftext|> as text unless special tokens are allowed', () => {
    expect(tok.encode('a<|endoftext|>')).toHaveLength(14);
    expect(tok.encode('a<|endoftext|>b<|endoftext|>', { allowSpecial: true })).toEqual([97, 256, 98, 256]);
    expect(tok.decode([97, 256, 98])).toBe('a<|endoftext|>b');
  });

  it('round-trips unicode text and rejects ids outside [0, 257)', () => {
    const text = 'ε-DP 日本語 🙂 \u0000 tab\t';
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.decode([0xf0, 0x9f])).toBe('\uFFFD');
    expect(() => tok.decode([257])).toThrow(/ByteTokenizer\.decode: ids\[0\] is 257, expected an integer in \[0, 257\)/);
  });
});
