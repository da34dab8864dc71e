import { describe, expect, it } from 'vitest';
import { expectedCellSeconds, fitsBeforeDeadline } from './cell-time';
import type { StudyRecord } from './study-results';

const cell = (size: string, cellSeconds: number | undefined, concurrentJobs: number | undefined, family = 'gpt2') =>
  ({ kind: 'cell', family, size, cellSeconds, concurrentJobs }) as unknown as StudyRecord;

describe('expectedCellSeconds', () => {
  it("is the longest time of the size's cells at the same concurrency", () => {
    const records = [cell('s53m', 215, 2), cell('s53m', 226.4, 2), cell('s53m', 120, 1), cell('s12m', 400, 2), cell('s53m', 900, 2, 'vit')];
    expect(expectedCellSeconds(records, 'gpt2', 's53m', 2)).toBe(226.4);
    expect(expectedCellSeconds(records, 'gpt2', 's53m', 1)).toBe(120);
  });

  it('falls back on cells that shared the device with more: a cell alone is no slower', () => {
    const records = [cell('s53m', 215, 2), cell('s53m', 234, 2), cell('s53m', 300, 4), cell('s53m', 90, undefined)];
    expect(expectedCellSeconds(records, 'gpt2', 's53m', 1)).toBe(300); // the longest at 2 or 4
    expect(expectedCellSeconds(records, 'gpt2', 's53m', 3)).toBe(300); // only 4 bounds 3
    expect(expectedCellSeconds(records, 'gpt2', 's53m', 2)).toBe(234); // its own concurrency first
  });

  it('is unknown without such cells: none of the size, only a lower concurrency, or records without the time', () => {
    const records = [cell('s53m', 215, 2), cell('s12m', undefined, 4), { kind: 'bench', family: 'gpt2', size: 's12m', rows: [] } as unknown as StudyRecord];
    expect(expectedCellSeconds(records, 'gpt2', 's4m', 2)).toBeNull();
    expect(expectedCellSeconds(records, 'gpt2', 's53m', 4)).toBeNull();
    expect(expectedCellSeconds(records, 'gpt2', 's12m', 4)).toBeNull();
  });
});

describe('fitsBeforeDeadline', () => {
  it('starts a cell only if it ends by the deadline, when its time is known', () => {
    expect(fitsBeforeDeadline(0, 300_000, 226)).toBe(true);
    expect(fitsBeforeDeadline(80_000, 300_000, 226)).toBe(false);
    expect(fitsBeforeDeadline(74_000, 300_000, 226)).toBe(true);
  });

  it('without an estimate, starts any cell before the deadline and none after', () => {
    expect(fitsBeforeDeadline(299_999, 300_000, null)).toBe(true);
    expect(fitsBeforeDeadline(300_000, 300_000, null)).toBe(false);
    expect(fitsBeforeDeadline(1e12, Infinity, 1e6)).toBe(true);
  });
});
