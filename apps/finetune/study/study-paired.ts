// Each grouping against a reference grouping (all-layer), seed by seed: both at their own picked lr, a
// pair is two runs of the same size, ε and seed (the same data order and noise seed). Paired gaps
// separate a grouping effect from the seeds' spread that the table's mean ± sd mixes in. Pure.
import type { CellRecord, StudyRecord } from './study-results';
import type { Family } from './study-spec';
import { stat, studyCells, type Stat, type StudyWant, type SummaryRow } from './study-summary';

/** One (size, ε, grouping) against the reference grouping at the same size and ε. */
export interface PairedGap {
  readonly size: string;
  readonly epsilon: number;
  readonly grouping: string;
  readonly reference: string;
  /** Per seed both ran at their picked lr: the grouping's test score minus the reference's (loss for GPT-2, accuracy for ViT). */
  readonly pairs: readonly { readonly seed: number; readonly diff: number }[];
  readonly diff: Stat | null;
  /** Pairs where the grouping did worse: higher test loss (GPT-2), lower test accuracy (ViT). */
  readonly behind: number;
  /** Either side's lr grid is still running (`SummaryRow.gridMissing`): its pick is provisional, so no pairs. */
  readonly gridIncomplete: boolean;
}

const score = (family: Family, r: CellRecord) => (family === 'vit' ? r.test.accuracy : r.test.loss);

/**
 * A gap for every summary row whose grouping is not `reference` and whose (size, ε) has a reference
 * row; no pairs where either side has no run at its pick (or no pick: the table shows it missing), or
 * where either side's lr grid is still running (a provisional pick would pair runs at lrs that the
 * finished grid may not pick). Runs of other step budgets
 * or batch sizes than `want`'s are left out, as the summary leaves them.
 *
 * @example
 * pairedGaps(records, summarize(records, want), want); // layer-wise − all-layer per seed, at each (size, ε)
 */
export function pairedGaps(
  records: readonly StudyRecord[],
  rows: readonly SummaryRow[],
  want: Pick<StudyWant, 'family' | 'steps' | 'batch'>,
  reference = 'all-layer',
): PairedGap[] {
  const cells = studyCells(records, want);
  const atPick = (row: SummaryRow) => {
    const bySeed = new Map<number, number>();
    for (const r of cells) {
      const s = score(want.family, r);
      if (row.lr !== null && r.size === row.size && r.epsilon === row.epsilon && r.grouping === row.grouping && r.lr === row.lr && typeof s === 'number' && Number.isFinite(s)) bySeed.set(r.seed, s);
    }
    return bySeed;
  };
  const out: PairedGap[] = [];
  for (const row of rows) {
    if (row.grouping === reference) continue;
    const ref = rows.find((r) => r.size === row.size && r.epsilon === row.epsilon && r.grouping === reference);
    if (!ref) continue;
    const gridIncomplete = row.gridMissing.length > 0 || ref.gridMissing.length > 0;
    const mine = gridIncomplete ? new Map<number, number>() : atPick(row);
    const theirs = atPick(ref);
    const pairs = [...mine.entries()]
      .filter(([seed]) => theirs.has(seed))
      .sort(([a], [b]) => a - b)
      .map(([seed, s]) => ({ seed, diff: s - theirs.get(seed)! }));
    const behind = pairs.filter((p) => (want.family === 'vit' ? p.diff < 0 : p.diff > 0)).length;
    out.push({ size: row.size, epsilon: row.epsilon, grouping: row.grouping, reference, pairs, diff: stat(pairs.map((p) => p.diff)), behind, gridIncomplete });
  }
  return out;
}

/** The gaps as a markdown table (loss in nats for GPT-2, accuracy in percentage points for ViT). */
export function pairedGapTable(gaps: readonly PairedGap[], family: Family): string {
  const unit = family === 'vit' ? 'test accuracy, points' : 'test loss, nats';
  const scale = family === 'vit' ? 100 : 1;
  const digits = family === 'vit' ? 2 : 3;
  const fmt = (x: number) => (x * scale >= 0 ? '+' : '') + (x * scale).toFixed(digits);
  const lines = [
    `| size | ε | grouping − reference (${unit}) | pairs | by seed | mean ± sd | pairs where the grouping is behind |`,
    '| --- | ---: | --- | ---: | --- | ---: | ---: |',
  ];
  for (const g of gaps) {
    const bySeed = g.gridIncomplete ? 'lr grid still running' : g.pairs.length ? g.pairs.map((p) => `${p.seed}: ${fmt(p.diff)}`).join('; ') : 'missing';
    const mean = g.diff ? `${fmt(g.diff.mean)}${g.diff.sd === null ? '' : ` ± ${(g.diff.sd * scale).toFixed(digits)}`}` : 'missing';
    lines.push(`| ${g.size} | ${g.epsilon} | ${g.grouping} − ${g.reference} | ${g.pairs.length} | ${bySeed} | ${mean} | ${g.behind} of ${g.pairs.length} |`);
  }
  return lines.join('\n') + '\n';
}
