// How long a study cell is expected to take, so that a runner with a deadline does not start a cell
// that the deadline would kill: a killed cell is lost whole (its result is written only at its end),
// and on the device the seconds it ran are spent for nothing (two s53m cells, about 190 s each, in the
// nineteenth session's calls).
import type { CellRecord, StudyRecord } from './study-results';

/**
 * The expected seconds of a cell of `family`/`size` run `jobs` at a time: the longest `cellSeconds` of
 * the finished cells of that size that ran at the same concurrency (the time a cell takes depends on
 * how many share the device), else null (unknown: nothing to go by, e.g. records written before
 * `cellSeconds` was kept, or only ones at another concurrency). The longest, not the median: an
 * estimate too short loses the cell, one too long only leaves the deadline's last minutes unused.
 *
 * @example
 * expectedCellSeconds(records, 'gpt2', 's53m', 2); // 226 after the runs of two cells of 215 and 226 s
 */
export function expectedCellSeconds(records: readonly StudyRecord[], family: string, size: string, jobs: number): number | null {
  const times = records
    .filter((r): r is CellRecord => r.kind === 'cell' && r.family === family && r.size === size && r.concurrentJobs === jobs)
    .map((r) => r.cellSeconds)
    .filter((s): s is number => typeof s === 'number' && Number.isFinite(s) && s > 0);
  return times.length ? Math.max(...times) : null;
}

/**
 * Whether a cell may start at `nowMs` under a deadline (ms; Infinity: none): not after the deadline,
 * and, where its expected seconds are known, only if it would end by then.
 */
export function fitsBeforeDeadline(nowMs: number, deadlineMs: number, expectedSeconds: number | null): boolean {
  if (nowMs >= deadlineMs) return false;
  return expectedSeconds === null || nowMs + expectedSeconds * 1000 <= deadlineMs;
}
