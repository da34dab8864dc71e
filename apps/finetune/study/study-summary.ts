// From the results file's records to one summary row per (size, grouping, ε): the lr picked on the
// validation split (mean over the seeds every lr ran), and the test metrics of that lr as mean and spread over seeds,
// beside the measured step time and `clipwise bench`'s measured and predicted peaks. Pure. The
// test scores never enter the choice of lr.
import type { BenchRecord, BenchRow, CellRecord, Scores, StudyRecord } from './study-results';
import type { Cell, Family } from './study-spec';

/** Mean and spread (sample standard deviation; null with one value) of one metric over seeds. */
export interface Stat {
  mean: number;
  sd: number | null;
  n: number;
}

/** Mean and sample standard deviation of the values; null for none. */
export function stat(xs: readonly number[]): Stat | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : null;
  return { mean, sd, n: xs.length };
}

/** One lr of the grid: its mean validation score over the seeds that finished. */
export interface LrTrial {
  lr: number;
  /** Mean validation loss (GPT-2) or accuracy (ViT). */
  val: number;
  seeds: number;
}

/**
 * The lr whose mean validation score is best, with every lr's mean (the grid, to report), over the
 * seeds that every lr of the grid has: all of them when each lr ran every seed, seed 0 alone when the
 * other seeds ran at seed 0's pick only (`run-study --seeds-at-pick`), so that no lr is favoured by
 * having more seeds. Reads `val` only. Ties go to the smaller lr; null when no run finished.
 */
export function selectLr(family: Family, runs: readonly CellRecord[]): { lr: number; grid: LrTrial[] } | null {
  const seedsOf = new Map<number, Set<number>>();
  for (const r of runs) seedsOf.set(r.lr, (seedsOf.get(r.lr) ?? new Set()).add(r.seed));
  const sets = [...seedsOf.values()];
  const shared = sets.length ? [...sets[0]!].filter((s) => sets.every((set) => set.has(s))) : [];
  // no seed in common (a grid still running): every run counts, as before
  const counted = shared.length ? runs.filter((r) => shared.includes(r.seed)) : runs;
  const byLr = new Map<number, CellRecord[]>();
  for (const r of counted) byLr.set(r.lr, [...(byLr.get(r.lr) ?? []), r]);
  const grid = [...byLr.entries()]
    .sort(([a], [b]) => a - b)
    .map(([lr, rs]) => ({ lr, val: stat(rs.map((r) => (family === 'vit' ? r.val.accuracy ?? NaN : r.val.loss)))!.mean, seeds: rs.length }));
  if (grid.length === 0) return null;
  const score = (t: LrTrial) => (family === 'vit' ? -t.val : t.val);
  const best = grid.reduce((b, t) => (score(t) < score(b) ? t : b));
  return { lr: best.lr, grid };
}

/**
 * What `run-study --seeds-at-pick` runs of `cells`: the pick seed's (0) cells all, and those of other
 * seeds only at the lr that the pick seed's finished runs chose on validation for their (size,
 * grouping, ε), once the pick seed has finished at every lr of the grid; before that they wait for a
 * later pass (`waiting` counts them). At three seeds and three lrs that is 5 runs a (size, grouping, ε)
 * instead of 9, and the table's pick (`selectLr`, over the seeds every lr has) is then seed 0's too.
 */
export function cellsAtPickedLr(cells: readonly Cell[], records: readonly StudyRecord[], pickSeed = 0): { cells: Cell[]; waiting: number } {
  const setting = (c: Cell | CellRecord) => `${c.family}|${c.size}|${c.grouping}|${c.epsilon}|${c.steps}|${c.batch}`;
  const done = records.filter((r): r is CellRecord => r.kind === 'cell' && r.seed === pickSeed);
  const picks = new Map<string, number | null>();
  const pickOf = (c: Cell): number | null => {
    const key = setting(c);
    if (!picks.has(key)) {
      const lrs = new Set(cells.filter((d) => setting(d) === key).map((d) => d.lr));
      const runs = done.filter((r) => setting(r) === key && lrs.has(r.lr));
      const complete = [...lrs].every((lr) => runs.some((r) => r.lr === lr));
      picks.set(key, complete ? selectLr(c.family, runs)!.lr : null);
    }
    return picks.get(key)!;
  };
  const kept: Cell[] = [];
  let waiting = 0;
  for (const c of cells) {
    if (c.seed === pickSeed) kept.push(c);
    else if (pickOf(c) === null) waiting++;
    else if (pickOf(c) === c.lr) kept.push(c);
  }
  return { cells: kept, waiting };
}

/** One row of the study's table: a (size, grouping, ε) at its lr picked on validation. */
export interface SummaryRow {
  family: Family;
  size: string;
  grouping: string;
  epsilon: number;
  /** Parameters (from the runs), null when none finished. */
  params: number | null;
  lr: number | null;
  grid: LrTrial[];
  /**
   * Lrs of the size's planned grid (`StudyWant.lrGrids`) or that another grouping at this size and ε ran,
   * and this row has no run at (ascending): its grid is still running, so `lr` is provisional (the table
   * says so, and `pairedGaps` makes no pairs of it).
   */
  gridMissing: number[];
  /**
   * The pre-trained model's validation score before any private step (loss for GPT-2, accuracy for
   * ViT; the runs' step-0 evaluation, the same model for every run of a size): what the grid's scores
   * are to be read against. Null when no run recorded it.
   */
  valStart: number | null;
  /** The same model's test score on the runs' test examples (`testStart`), null when no run recorded it. */
  testStart: number | null;
  /**
   * The runs started from a fresh classifier (`clipwise train --new-head`, ViT's class-disjoint transfer
   * task): `valStart` is then the untrained head's score (about chance), not the pre-trained model's,
   * and no `testStart` is recorded.
   */
  freshHead: boolean;
  /** Test metrics of the picked lr over its seeds. */
  test: { loss: Stat | null; accuracy: Stat | null; bleu: Stat | null; rougeL: Stat | null };
  /** Median step time of the runs (ms), mean over the picked lr's seeds. */
  stepMs: Stat | null;
  /** Largest measured device peak of the runs (webgpu only). */
  runPeakBytes: number | null;
  /** `clipwise bench` at this size's shape: the grouping's row ('layer-wise' for adaptive layer-wise). */
  bench: BenchRow | null;
  /** The distinct pre-trained weights (hashes) the row's runs started from: more than one is a confound. */
  baseModels: string[];
}

/** The bench configuration that a study grouping is measured by: adaptive thresholds change no memory. */
export const benchGrouping = (grouping: string) => (grouping === 'layer-wise-adaptive' ? 'layer-wise' : grouping);

const statOf = (runs: readonly CellRecord[], pick: (r: CellRecord) => number | undefined) =>
  stat(runs.map(pick).filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));

/** What a study table asks for: the family's sizes, groupings and ε at one step budget and batch. */
export interface StudyWant {
  readonly family: Family;
  readonly sizes: readonly string[];
  readonly groupings: readonly string[];
  readonly epsilons: readonly number[];
  readonly steps: number;
  readonly batch: number;
  /**
   * Each size's planned lr grid (`sizes.json`'s `lrs`): a row that has not run all of it has a
   * provisional pick, even where every grouping stopped at the same lrs. Absent: the grid is the lrs
   * the runs have.
   */
  readonly lrGrids?: Readonly<Record<string, readonly number[]>>;
}

/**
 * The finished cells of `want`'s family run at its step budget and batch: what the summary, the paired
 * gaps and the same-lr table read (runs of other budgets are left out of all three).
 *
 * @example
 * studyCells(records, { family: 'gpt2', steps: 100, batch: 256 }).length;
 */
export function studyCells(records: readonly StudyRecord[], want: Pick<StudyWant, 'family' | 'steps' | 'batch'>): CellRecord[] {
  return records.filter((r): r is CellRecord => r.kind === 'cell' && r.family === want.family && r.steps === want.steps && r.batch === want.batch);
}

/**
 * One row for every (size, grouping, ε) asked for, in that order, whether or not any run finished
 * (a row with no runs has nulls: the table shows it as missing). Cells of other step budgets or
 * batch sizes than `steps` / `batch` are left out, so that every row has the same budget.
 */
export function summarize(
  records: readonly StudyRecord[],
  want: StudyWant,
): SummaryRow[] {
  const cells = studyCells(records, want);
  const benches = records.filter((r): r is BenchRecord => r.kind === 'bench' && r.family === want.family);
  const rows: SummaryRow[] = [];
  for (const size of want.sizes)
    for (const epsilon of want.epsilons) {
      // the planned grid and every lr any grouping ran at this size and ε: what a row's pick is provisional without
      const lrsHere = new Set([...(want.lrGrids?.[size] ?? []), ...cells.filter((r) => r.size === size && r.epsilon === epsilon).map((r) => r.lr)]);
      for (const grouping of want.groupings) {
        const runs = cells.filter((r) => r.size === size && r.grouping === grouping && r.epsilon === epsilon);
        const gridMissing = [...lrsHere].filter((lr) => !runs.some((r) => r.lr === lr)).sort((a, b) => a - b);
        const picked = selectLr(want.family, runs);
        const chosen = picked ? runs.filter((r) => r.lr === picked.lr) : [];
        const peaks = runs.map((r) => r.peakBytes).filter((p): p is number => p !== null);
        rows.push({
          family: want.family, size, grouping, epsilon,
          params: runs[0]?.params ?? null,
          lr: picked?.lr ?? null,
          grid: picked?.grid ?? [],
          gridMissing: runs.length ? gridMissing : [],
          valStart: statOf(runs, (r) => (want.family === 'vit' ? r.valStart?.accuracy : r.valStart?.loss))?.mean ?? null,
          testStart: statOf(runs, (r) => (want.family === 'vit' ? r.testStart?.accuracy : r.testStart?.loss))?.mean ?? null,
          freshHead: runs.length > 0 && runs.every((r) => r.args.includes('--new-head')),
          test: {
            loss: statOf(chosen, (r) => r.test.loss),
            accuracy: statOf(chosen, (r) => r.test.accuracy),
            bleu: statOf(chosen, (r) => r.test.bleu),
            rougeL: statOf(chosen, (r) => r.test.rougeL),
          },
          stepMs: statOf(chosen, (r) => r.stepMsMedian),
          runPeakBytes: peaks.length ? Math.max(...peaks) : null,
          bench: benches.filter((b) => b.size === size).at(-1)?.rows.find((b) => b.grouping === benchGrouping(grouping)) ?? null,
          baseModels: [...new Set(runs.map((r) => r.baseModel).filter(Boolean))],
        });
      }
    }
  return rows;
}
