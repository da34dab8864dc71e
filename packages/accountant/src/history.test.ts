import { describe, expect, it } from 'vitest';
import { ClipwiseAccountantError } from './errors';
import { appendSteps, parseHistory, totalSteps, type HistoryEntry } from './history';

describe('history', () => {
  it('merges consecutive steps with equal (σ, q) and keeps changes as new entries', () => {
    const h: HistoryEntry[] = [];
    appendSteps(h, 1.1, 0.01);
    appendSteps(h, 1.1, 0.01, 999_999);
    appendSteps(h, 0.9, 0.01, 10);
    appendSteps(h, 1.1, 0.01, 5);
    appendSteps(h, 1.1, 0.01, 0);
    expect(h).toEqual([
      { noiseMultiplier: 1.1, sampleRate: 0.01, steps: 1_000_000 },
      { noiseMultiplier: 0.9, sampleRate: 0.01, steps: 10 },
      { noiseMultiplier: 1.1, sampleRate: 0.01, steps: 5 },
    ]);
    expect(totalSteps(h)).toBe(1_000_015);
  });

  it.each([
    [0, 0.01, 1, /noiseMultiplier must be a finite number > 0, got 0/],
    [1, 1.5, 1, /sampleRate must be a number in \(0, 1\], got 1.5/],
    [1, 0, 1, /sampleRate must be a number in \(0, 1\], got 0/],
    [1, 0.1, -1, /count must be a whole number >= 0, got -1/],
    [1, 0.1, 2.5, /count must be a whole number >= 0, got 2.5/],
    [Infinity, 0.1, 1, /noiseMultiplier must be a finite number > 0, got Infinity/],
  ])('rejects σ=%s q=%s count=%s naming the value and the valid range', (sigma, q, count, message) => {
    expect(() => appendSteps([], sigma, q, count)).toThrow(ClipwiseAccountantError);
    expect(() => appendSteps([], sigma, q, count)).toThrow(message);
  });

  it('parses stored histories, merging and validating each entry with its index', () => {
    expect(
      parseHistory([
        { noiseMultiplier: 1, sampleRate: 0.1, steps: 2 },
        { noiseMultiplier: 1, sampleRate: 0.1, steps: 3 },
      ]),
    ).toEqual([{ noiseMultiplier: 1, sampleRate: 0.1, steps: 5 }]);
    expect(() => parseHistory([{ noiseMultiplier: 1, sampleRate: 0.1, steps: 0 }])).toThrow(/history\[0\]\.steps must be a whole number >= 1, got 0/);
    expect(() => parseHistory([{ noiseMultiplier: 1, sampleRate: '0.1', steps: 1 }])).toThrow(/history\[0\]\.sampleRate/);
    expect(() => parseHistory('x')).toThrow(/history must be an array/);
    expect(() => parseHistory([null])).toThrow(/history\[0\] must be an object/);
  });
});
