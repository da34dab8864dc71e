import { describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { Gpt2Tokenizer } from './gpt2-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

const tok = new Gpt2Tokenizer();

describe('Gpt2Tokenizer', () => {
  it('has the GPT-2 vocabulary and end-of-text token', () => {
    const asInterface: Tokenizer = tok;
    expect(asInterface.vocabSize).toBe(50257);
    expect(asInterface.eotToken).toBe(50256);
  });

  // Reference ids: Hugging Face GPT2Tokenizer and tiktoken's own test suite (tests/test_encoding.py).
  it.each<[string, number[]]>([
    ['Hello world', [15496, 995]],
    ['hello world', [31373, 995]],
    [' the', [262]],
    ['0', [15]],
    ['00', [405]],
    ['000', [830]],
    ['0000', [2388]],
    ['00000', [20483]],
    ['', []],
  ])('encodes %j as %j', (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
    expect(tok.decode(ids)).toBe(text);
  });

  it('encodes <|endoftext|> in text as plain text unless special tokens are allowed', () => {
    expect(tok.encode('<|endoftext|>')).toEqual([27, 91, 437, 1659, 5239, 91, 29]);
    expect(tok.encode('hello <|endoftext|>', { allowSpecial: true })).toEqual([31373, 220, 50256]);
    expect(tok.decode([31373, 220, 50256])).toBe('hello <|endoftext|>');
  });

  it('round-trips unicode text', () => {
    const texts = [
      'Différential privacy — ε=1.0, δ=1e-5 ✓',
      '日本語のテキストと emoji 🙂🚀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
      'tabs\tand\n\nnewlines   with  spaces\r\n',
      "it's they're we've I'm you'll he'd",
    ];
    for (const text of texts) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('decodes a split multi-byte character to U+FFFD and refuses ids outside the vocabulary', () => {
    const ids = tok.encode('🙂');
    expect(ids.length).toBeGreaterThan(1);
    expect(tok.decode(ids.slice(0, 1))).toContain('\uFFFD');
    expect(() => tok.decode([15496, 50257])).toThrow(ClipwiseModelError);
    expect(() => tok.decode([15496, 50257])).toThrow(/Gpt2Tokenizer\.decode: ids\[1\] is 50257, expected an integer in \[0, 50257\)/);
    expect(() => tok.decode([-1])).toThrow(/ids\[0\] is -1/);
    expect(() => tok.decode([1.5])).toThrow(/ids\[0\] is 1\.5/);
  });

  it('refuses ranks of another encoding', () => {
    expect(() => new Gpt2Tokenizer({ pat_str: '.', special_tokens: { '<|endoftext|>': 100257 }, bpe_ranks: '' })).toThrow(
      /map <\|endoftext\|> to 100257, expected 50256/,
    );
  });
});
