// The study's results file: JSONL, one line per finished cell and one per size's `clipwise bench`.
// Appending one line at a time is what makes the study resumable: a line is there only for work
// that finished. Pure parsing here; the runner appends.
import type { Cell, Family } from './study-spec';
import { median } from '@clipwise/memory';

/** Scores of one evaluation: loss always; accuracy (ViT) or BLEU / ROUGE-L (GPT-2), as fractions. */
export interface Scores {
  loss: number;
  accuracy?: number;
  bleu?: number;
  rougeL?: number;
  /** MRs generated for BLEU / ROUGE-L. */
  generated?: number;
}

/** What a cell's process reports to the runner (the rest of the record is the cell itself). */
export interface CellOutcome {
  /** Parameters of the model (all trained). */
  params: number;
  /** The last evaluation during training, on the validation split: what picks the lr. */
  val: Scores;
  /**
   * The evaluation at step 0, before any private step: the pre-trained model on the validation split,
   * the baseline that shows what fine-tuning changed. Absent from records written before it was kept.
   */
  valStart?: Scores;
  /** The final checkpoint scored on the test split after training. */
  test: Scores;
  /**
   * The pre-trained model scored on the same test examples (loss and accuracy; no generations): the
   * paired baseline of `test`. Absent from records written before it was kept.
   */
  testStart?: Scores;
  /** Median of the logged step times, the first step (warm-up, compilation) left out. */
  stepMsMedian: number;
  /** Most device bytes in use during the run (webgpu's pool), null where the backend has no such count. */
  peakBytes: number | null;
  sigma: number;
  epsilonSpent: number;
  backend: string;
  wallSeconds: number;
}

/** The line prefix that marks the outcome in the cell's output. */
export const OUTCOME_PREFIX = 'STUDY-CELL ';

/** One finished private fine-tuning run. */
export interface CellRecord extends Cell, CellOutcome {
  kind: 'cell';
  key: string;
  /** SHA-256 (16 hex digits) of the pre-trained weights the run started from: a size pre-trained twice shows two. */
  baseModel: string;
  /** The `clipwise train` arguments of the run. */
  args: string[];
  /** Seconds from the cell's start to its result (process, training, test scoring); absent from records written before it was kept. */
  cellSeconds?: number;
  /** How many cells the runner ran at once (`--jobs`, capped): what `cellSeconds` depends on. */
  concurrentJobs?: number;
}

/** One configuration row of `clipwise bench --json` at a size's fine-tuning shape. */
export interface BenchRow {
  grouping: string;
  stepMs: number;
  peakBytes: number;
  predictedPeakBytes: number | null;
}

/** `clipwise bench` once per size: measured and predicted peak and step time per grouping. */
export interface BenchRecord {
  kind: 'bench';
  family: Family;
  size: string;
  backend: string;
  batch: number;
  seqLen: number | null;
  rows: BenchRow[];
  args: string[];
}

export type StudyRecord = CellRecord | BenchRecord;

/**
 * The records of a results file's text. A line that does not parse is skipped only when it is the
 * last one (a run cut while appending); anywhere else it is an error, as the file was edited.
 */
export function parseResults(text: string, source = 'results'): StudyRecord[] {
  const lines = text.split('\n').map((l) => l.trim());
  while (lines.length && lines.at(-1) === '') lines.pop();
  const out: StudyRecord[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    try {
      out.push(JSON.parse(line) as StudyRecord);
    } catch (e) {
      if (i < lines.length - 1) throw new Error(`${source}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  });
  return out;
}

/** Keys of the finished cells. */
export function finishedKeys(records: readonly StudyRecord[]): Set<string> {
  return new Set(records.filter((r): r is CellRecord => r.kind === 'cell').map((r) => r.key));
}

/** Sizes (family/size) whose bench rows are in the file. */
export function benchedSizes(records: readonly StudyRecord[]): Set<string> {
  return new Set(records.filter((r): r is BenchRecord => r.kind === 'bench').map((r) => `${r.family}/${r.size}`));
}

/** The median of numbers (NaN for none): memory's, for the study's callers. */
export { median };
