import { describe, expect, it } from 'vitest';
import { formatEta } from '../src/progress/format-eta';

describe('formatEta (the training log\'s remaining time)', () => {
  it('rounds to the second before splitting minutes and seconds', () => {
    expect(formatEta(179.6)).toBe('3:00'); // was printed as 2:60
    expect(formatEta(59.4)).toBe('0:59');
    expect(formatEta(0)).toBe('0:00');
    expect(formatEta(3661)).toBe('61:01');
  });

  it('prints - for a time it cannot know', () => {
    expect(formatEta(Number.NaN)).toBe('-');
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('-');
  });
});
