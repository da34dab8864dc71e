import { describe, expect, it } from 'vitest';
import { COPY_CONTINUE_BONUS, copyBonus } from '../src/train/text-eval';
import { mrCopyValues } from '../src/train/evaluate';

describe('mrCopyValues (the MR values --gen-copy-bias favours)', () => {
  it('keeps the names (every word capitalised), in MR order', () => {
    expect(mrCopyValues('name[Blue Spice], eatType[coffee shop], area[city centre], near[The Mill], familyFriendly[yes]')).toEqual(['Blue Spice', 'The Mill']);
    expect(mrCopyValues('food[Fast food], priceRange[cheap], near[Rainbow Vegetarian Café], food[Italian]')).toEqual(['Rainbow Vegetarian Café', 'Italian']);
    expect(mrCopyValues('no brackets')).toEqual([]);
  });
});

describe('copyBonus (copy bias in greedy decoding)', () => {
  const values = [
    [10, 11, 12],
    [20, 21],
  ];
  it('offers the first value not yet written, one at a time in order', () => {
    expect(copyBonus([], values, 4)).toEqual(new Map([[10, 4]]));
    expect(copyBonus([10, 11, 12, 5], values, 4)).toEqual(new Map([[20, 4]]));
    // not right after a finished value
    expect(copyBonus([10, 11, 12], values, 4).size).toBe(0);
  });
  it('continues a value begun', () => {
    expect(copyBonus([5, 10], values, 4)).toEqual(new Map([[11, COPY_CONTINUE_BONUS], [20, 4]]));
    expect(copyBonus([5, 10, 11], values, 4)).toEqual(new Map([[12, COPY_CONTINUE_BONUS], [20, 4]]));
    expect(copyBonus([5, 20], values, 4)).toEqual(new Map([[21, COPY_CONTINUE_BONUS], [10, 4]]));
  });
  it('offers a value once: not again after its first token was written and left', () => {
    expect(copyBonus([10, 7], values, 4)).toEqual(new Map([[20, 4]]));
  });
  it('gives nothing when every value is written, or when the bias is 0', () => {
    expect(copyBonus([20, 21, 1, 10, 11, 12], values, 4).size).toBe(0);
    expect(copyBonus([], values, 0).size).toBe(0);
  });
});
