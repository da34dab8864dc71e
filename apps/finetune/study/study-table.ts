// The study's markdown table from summary rows. Pure. A value that no finished run gives is written
// "missing", never filled in: the table shows exactly what the results file holds.
import { benchGrouping, type Stat, type SummaryRow } from './study-summary';

const MISSING = 'missing';
const MIB = 2 ** 20;

/** `mean ± sd` at `digits` decimals (times `scale`), or the mean alone where one seed has no spread. */
const meanSd = (s: Stat, digits: number, scale: number) =>
  s.sd === null ? (s.mean * scale).toFixed(digits) : `${(s.mean * scale).toFixed(digits)} ± ${(s.sd * scale).toFixed(digits)}`;

/** `mean ± sd` at `digits` decimals (times `scale`); 'missing' for no runs; `(n=1)` when one seed has no spread. */
export function formatStat(s: Stat | null, digits: number, scale = 1): string {
  if (!s) return MISSING;
  return s.sd === null ? `${meanSd(s, digits, scale)} (n=1)` : meanSd(s, digits, scale);
}

const mib = (bytes: number | null | undefined) => (typeof bytes === 'number' ? (bytes / MIB).toFixed(1) : MISSING);
const params = (n: number | null) => (n === null ? MISSING : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`);
const grid = (r: SummaryRow, digits: number, scale: number) =>
  r.grid.length ? r.grid.map((t) => `${t.lr}: ${(t.val * scale).toFixed(digits)} (n=${t.seeds})`).join('; ') : MISSING;

/** The pick; with a grid still running, provisional, naming the lrs it has not run. */
const lrCell = (r: SummaryRow) =>
  r.lr === null ? MISSING : r.gridMissing.length ? `${r.lr} (provisional: ${r.gridMissing.join(', ')} not run)` : String(r.lr);

/**
 * The table of one family: a row per (size, ε, grouping) with the pre-trained model's validation and
 * test scores (before any private step), the lr grid's validation means and the pick, the test
 * metrics over seeds (mean ± sd), seeds done of `seedsPlanned`, the runs' step time and `clipwise
 * bench`'s measured and predicted peaks (MiB) and step time at the size's physical batch.
 */
export function studyTable(rows: readonly SummaryRow[], seedsPlanned: number): string {
  const vit = rows[0]?.family === 'vit';
  // the transfer task's runs start from a fresh head: their step-0 score is the untrained head's
  // (a table of rows without runs keeps the pre-trained header; the two tasks' cells are never pooled)
  const fresh = rows.some((r) => r.freshHead);
  const head = vit
    ? ['size', 'params', 'grouping', 'ε', fresh ? 'fresh head, step 0: val accuracy %' : 'pre-trained accuracy %: val / test', 'lr grid: val accuracy %', 'lr', 'seeds', 'test accuracy %', 'test loss']
    : ['size', 'params', 'grouping', 'ε', 'pre-trained loss: val / test', 'lr grid: val loss', 'lr', 'seeds', 'test loss', 'BLEU', 'ROUGE-L'];
  head.push('run step ms', 'run peak MiB', 'bench peak MiB', 'predicted peak MiB', 'bench step ms');
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((h, i) => (i < 3 ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) {
    const seeds = r.test.loss?.n ?? 0;
    const cells = [r.size, params(r.params), r.grouping, String(r.epsilon)];
    const start = (x: number | null) => (x === null ? MISSING : vit ? (100 * x).toFixed(1) : x.toFixed(4));
    cells.push(fresh ? start(r.valStart) : `${start(r.valStart)} / ${start(r.testStart)}`);
    cells.push(vit ? grid(r, 1, 100) : grid(r, 4, 1), lrCell(r), `${seeds}/${seedsPlanned}`);
    if (vit) cells.push(formatStat(r.test.accuracy, 1, 100), formatStat(r.test.loss, 4));
    else cells.push(formatStat(r.test.loss, 4), formatStat(r.test.bleu, 2, 100), formatStat(r.test.rougeL, 2, 100));
    cells.push(r.stepMs ? r.stepMs.mean.toFixed(0) : MISSING, mib(r.runPeakBytes), mib(r.bench?.peakBytes), mib(r.bench?.predictedPeakBytes), r.bench ? r.bench.stepMs.toFixed(0) : MISSING);
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const mixed = [...new Set(rows.filter((r) => r.baseModels.length > 1).map((r) => r.size))];
  if (mixed.length) lines.push('', `Warning: the runs of ${mixed.join(', ')} started from more than one pre-trained model (weights hashes differ); their rows compare runs of different bases.`);
  return lines.join('\n') + '\n';
}

/**
 * The study at a glance: a line per (size, ε) with each grouping's test score at its pick (mean ± sd over
 * its seeds, the seed count after it), then the bench's measured / predicted peak (MiB) and step time
 * (ms) per grouping at the size's physical batch. The same summary rows as `studyTable`, regrouped.
 *
 * @example
 * studyGlance(summarize(records, want)); // | s12m | 12.29M | 8 | 3.358 ± 0.047 (3) | 3.489 ± 0.042 (3) | … |
 */
export function studyGlance(rows: readonly SummaryRow[]): string {
  const vit = rows[0]?.family === 'vit';
  const groupings = [...new Set(rows.map((r) => r.grouping))];
  const settings = [...new Set(rows.map((r) => `${r.size}|${r.epsilon}`))];
  const score = (r: SummaryRow | undefined) => {
    const s = vit ? r?.test.accuracy : r?.test.loss;
    // a pick whose size's lr grid is still running is marked: it may move when the rest of the grid runs
    return s ? `${meanSd(s, vit ? 1 : 3, vit ? 100 : 1)} (${s.n}${r!.gridMissing.length ? ', provisional lr' : ''})` : MISSING;
  };
  const bench = (r: SummaryRow | undefined) => (r?.bench ? `${mib(r.bench.peakBytes)} / ${mib(r.bench.predictedPeakBytes)} / ${r.bench.stepMs.toFixed(0)}` : MISSING);
  // one bench column per configuration the bench measures (adaptive layer-wise is layer-wise's row)
  const benched = [...new Set(groupings.map(benchGrouping))];
  const head = ['size', 'params', 'ε', ...groupings.map((g) => `${g}: test ${vit ? 'accuracy %' : 'loss'} (seeds)`), ...benched.map((g) => `${g}: bench peak / predicted MiB / step ms`)];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((h, i) => (i < 1 ? '---' : '---:')).join(' | ')} |`];
  for (const setting of settings) {
    const mine = rows.filter((r) => `${r.size}|${r.epsilon}` === setting);
    const by = (g: string) => mine.find((r) => r.grouping === g);
    const first = mine[0]!;
    // a size's parameter count from any of its runs (a setting with none still has the size)
    const count = rows.find((r) => r.size === first.size && r.params !== null)?.params ?? null;
    lines.push(`| ${[first.size, params(count), String(first.epsilon), ...groupings.map((g) => score(by(g))), ...benched.map((g) => bench(by(g)))].join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
