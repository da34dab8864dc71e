// How long a study cell is expected to take, so that a runner with a deadline does not start a cell
// that the deadline would kill: a killed cell is lost whole (its result is written only at its end),
// and on the device the seconds it ran are spent for nothing (two s53m cells, about 190 s each, in the
// nineteenth session's calls).
import type { CellRecord, StudyRecord } from './study-results';

/**
 * The expected seconds of a cell of `family`/`size` run `jobs` at a time: the longest `cellSeconds` of
 * the finished cells of that size that ran at the same concurrency (the time a cell takes depends on
 * how many share the device). Where there are none, the longest of those that ran at a higher
 * concurrency: sharing the device only slows a cell, so that bounds it from above (a first call at
 * `--jobs 1` after calls at 2). Else null (unknown: nothing to go by, e.g. records written before
 * `cellSeconds` was kept, or only ones at a lower concurrency). The longest, not the median: an
 * estimate too short loses the cell, one too long only leaves the deadline's last minutes unused.
 *
 * @example
 * expectedCellSeconds(records, 'gpt2', 's53m', 2); // 226 after the runs of two cells of 215 and 226 s
 * expectedCellSeconds(records, 'gpt2', 's53m', 1); // 226 as well, until a cell has run alone
 */
export function expectedCellSeconds(records: readonly StudyRecord[], family: string, size: string, jobs: number): number | null {
  const timed = records.filter(
    (r): r is CellRecord & { cellSeconds: number; concurrentJobs: number } =>
      r.kind === 'cell' && r.family === family && r.size === size && typeof r.concurrentJobs === 'number' &&
      typeof r.cellSeconds === 'number' && Number.isFinite(r.cellSeconds) && r.cellSeconds > 0,
  );
  const longest = (rs: readonly { cellSeconds: number }[]) => (rs.length ? Math.max(...rs.map((r) => r.cellSeconds)) : null);
  return longest(timed.filter((r) => r.concurrentJobs === jobs)) ?? longest(timed.filter((r) => r.concurrentJobs > jobs));
}

/**
 * Whether a cell may start at `nowMs` under a deadline (ms; Infinity: none): not after the deadline,
 * and, where its expected seconds are known, only if it would end by then.
 */
export function fitsBeforeDeadline(nowMs: number, deadlineMs: number, expectedSeconds: number | null): boolean {
  if (nowMs >= deadlineMs) return false;
  return expectedSeconds === null || nowMs + expectedSeconds * 1000 <= deadlineMs;
}
