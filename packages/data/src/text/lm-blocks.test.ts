import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { charTokenizer, decodeChars } from '../__fixtures__/char-tokenizer.js';
import { hasSharedData, sharedDataDir } from '../__fixtures__/shared-data.js';
import { readTextBlocks } from '../node/read-text-blocks.js';
import { textToBlocks, tokensToBlocks } from './lm-blocks.js';

describe('tokensToBlocks', () => {
  it('cuts consecutive blocks and drops the short tail', () => {
    const b = tokensToBlocks([1, 2, 3, 4, 5, 6, 7], { blockLength: 3 });
    expect(Array.from(b.inputIds)).toEqual([1, 2, 3, 4, 5, 6]);
    expect([b.numBlocks, b.numTokens, b.droppedTokens]).toEqual([2, 7, 1]);
  });

  it('overlaps blocks with a stride', () => {
    const b = tokensToBlocks([1, 2, 3, 4, 5, 6, 7], { blockLength: 4, stride: 2 });
    expect(Array.from(b.inputIds)).toEqual([1, 2, 3, 4, 3, 4, 5, 6]);
    expect(b.droppedTokens).toBe(1);
  });

  it('explains a text shorter than one block', () => {
    expect(() => textToBlocks('ab', charTokenizer, { blockLength: 8 })).toThrow(/2 tokens, fewer than one block of 8/);
    expect(() => tokensToBlocks([1, 2, 3], { blockLength: 2, stride: 3 })).toThrow(/stride/);
  });
});

describe.skipIf(!hasSharedData)('readTextBlocks on tinyshakespeare.txt', () => {
  it('covers the whole text in order', async () => {
    const b = await readTextBlocks(path.join(sharedDataDir, 'text/tinyshakespeare.txt'), charTokenizer, { blockLength: 256 });
    expect(b.numTokens).toBeGreaterThan(1_000_000);
    expect(b.numBlocks).toBe(Math.floor(b.numTokens / 256));
    expect(decodeChars(b.inputIds.subarray(0, 14))).toBe('First Citizen:');
  });
});
