import { describe, expect, it } from 'vitest';
import { bannedNextTokens } from '../src/train/text-eval';

describe('bannedNextTokens (n-gram blocking in greedy decoding)', () => {
  it('bans the tokens that followed earlier occurrences of the last n − 1 tokens', () => {
    // "a b c a b" with n = 3: "a b" was followed by c → c banned
    expect([...bannedNextTokens([1, 2, 3, 1, 2], 3)]).toEqual([3]);
    // n = 2: the last token 2 was followed by 3 and (now) nothing else
    expect([...bannedNextTokens([1, 2, 3, 1, 2], 2)]).toEqual([3]);
    // brute force over a loop-prone sequence: every banned t makes a repeated n-gram, every other does not
    const seq = [5, 6, 5, 6, 5, 7, 5, 6];
    for (const n of [2, 3, 4]) {
      const banned = bannedNextTokens(seq, n);
      for (const t of [5, 6, 7, 8]) {
        const grams = (s: number[]) => s.slice(0, s.length - n + 1).map((_, i) => s.slice(i, i + n).join());
        const withT = grams([...seq, t]);
        expect(banned.has(t)).toBe(withT.slice(0, -1).includes(withT.at(-1)!));
      }
    }
  });

  it('bans nothing when off or before n − 1 tokens exist', () => {
    expect(bannedNextTokens([1, 1, 1], 0).size).toBe(0);
    expect(bannedNextTokens([1], 3).size).toBe(0);
  });
});
