import { describe, expect, it } from 'vitest';
import { charTokenizer, decodeChars } from '../__fixtures__/char-tokenizer.js';
import { ClipwiseDataError } from '../errors.js';
import { E2E_SEPARATOR, encodeE2E, formatE2E, formatE2EPrompt } from './e2e-format.js';
import { encodePromptCompletions } from './prompt-completion.js';

const row = (a: ArrayLike<number>, i: number, t: number) => Array.from(a).slice(i * t, (i + 1) * t);

describe('formatE2E', () => {
  it('joins mr, separator and ref with single spaces', () => {
    expect(E2E_SEPARATOR).toBe('||');
    expect(formatE2E('name[X]', 'X is nice.')).toBe('name[X] || X is nice.');
    expect(formatE2EPrompt('name[X]')).toBe('name[X] ||');
  });
});

describe('encodePromptCompletions / encodeE2E', () => {
  it('lays out prompt, target, EOT and padding, masking only target and EOT', () => {
    const enc = encodeE2E([{ mr: 'm[a]', ref: 'Hi.' }, { mr: 'm[bb]', ref: 'Yo' }], charTokenizer, { maxLength: 16 });
    expect([enc.numExamples, enc.seqLength, enc.numTruncated]).toEqual([2, 16, 0]);
    expect(decodeChars(row(enc.inputIds, 0, 16))).toBe('m[a] || Hi.⟂⟂⟂⟂⟂');
    //                                                    prompt "m[a] ||" = 7 tokens, target " Hi." + EOT = 5
    expect(row(enc.labelMask, 0, 16)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    expect(row(enc.attentionMask, 0, 16)).toEqual([...new Array(12).fill(1), 0, 0, 0, 0]);
    expect(Array.from(enc.lengths)).toEqual([12, 12]); // "m[bb] ||" = 8, " Yo" + EOT = 4
    // The masked tokens decode to exactly ' ' + ref + EOT.
    const target = row(enc.inputIds, 1, 16).filter((_, t) => enc.labelMask[16 + t] === 1);
    expect(decodeChars(target)).toBe(' Yo⟂');
  });

  it('pads to the longest example with padTo "longest" and uses a custom pad id', () => {
    const enc = encodePromptCompletions(
      [{ prompt: 'ab', completion: 'c' }, { prompt: 'a', completion: 'bcde' }],
      charTokenizer,
      { maxLength: 50, padTo: 'longest', padToken: 999 },
    );
    expect(enc.seqLength).toBe(6);
    expect(row(enc.inputIds, 0, 6).slice(4)).toEqual([999, 999]);
    expect(row(enc.labelMask, 1, 6)).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it('cuts long examples at maxLength (dropping the EOT) and counts them', () => {
    const enc = encodePromptCompletions([{ prompt: 'abc', completion: 'defgh' }], charTokenizer, { maxLength: 5 });
    expect(decodeChars(enc.inputIds)).toBe('abcde');
    expect(Array.from(enc.labelMask)).toEqual([0, 0, 0, 1, 1]);
    expect(enc.numTruncated).toBe(1);
  });

  it('refuses a prompt that leaves no room for the target', () => {
    const go = () => encodePromptCompletions([{ prompt: 'abcdef', completion: 'x' }], charTokenizer, { maxLength: 6 });
    expect(go).toThrow(ClipwiseDataError);
    expect(go).toThrow(/example 0: prompt has 6 tokens.*maxLength 6/);
  });
});
