import { describe, expect, it } from 'vitest';
import { benchedSizes, finishedKeys, median, parseResults } from './study-results';

const cell = (key: string) => JSON.stringify({ kind: 'cell', key });

describe('parseResults', () => {
  it('drops a last line cut while appending', () => {
    const text = `${cell('a')}\n${cell('b')}\n{"kind":"ce`;
    expect(finishedKeys(parseResults(text))).toEqual(new Set(['a', 'b']));
  });

  it('refuses a broken line that is not the last, naming it', () => {
    expect(() => parseResults(`${cell('a')}\nnot json\n${cell('b')}\n`, 'r.jsonl')).toThrow(/r\.jsonl:2/);
  });

  it('tells bench records from cells', () => {
    const records = parseResults(`${cell('a')}\n${JSON.stringify({ kind: 'bench', family: 'vit', size: 's21m', rows: [] })}\n`);
    expect(finishedKeys(records)).toEqual(new Set(['a']));
    expect(benchedSizes(records)).toEqual(new Set(['vit/s21m']));
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
