// The study's grid (issue 19): which cells exist, what each is called, and the `clipwise train`
// flags of one cell. Pure: no file system, no TF.js, so it is tested directly.
import sizesJson from './sizes.json';

export type Family = 'gpt2' | 'vit';

/** One model size of a family (sizes.json): its shape, pre-training plan and fine-tuning lr grid. */
export interface SizeSpec {
  preset: string;
  config: Record<string, number>;
  pretrain: { steps: number; batch: number; lr: number };
  physicalBatch: number;
  lrs: number[];
  /**
   * Most of this size's cells that run at once on one GPU (run-study's --jobs is capped to it): six
   * s12m cells ran the H100 out of memory (2026-12-06, each held 15.9 GB before the pool's trim on
   * shape changes).
   */
  maxJobs?: number;
}

/** A family's sizes and its fine-tuning budget, the same for every row of its table. */
export interface FamilySpec {
  seqLen?: number;
  finetune: { steps: number; batch: number; evalLimit: number; genLimit?: number; valFraction: number };
  sizes: Record<string, SizeSpec>;
}

/** The sizes table of both families (apps/finetune/study/sizes.json; the pre-training scripts read it too). */
export const STUDY_SIZES = sizesJson as Record<Family, FamilySpec>;

/** The four groupings of the issue; 'layer-wise-adaptive' is layer-wise with adaptive thresholds. */
export const STUDY_GROUPINGS = ['all-layer', 'layer-wise', 'uniform:4', 'layer-wise-adaptive'] as const;
export const STUDY_EPSILONS = [3, 8] as const;
export const STUDY_SEEDS = [0, 1, 2] as const;
export const STUDY_DELTA = 1e-5;

/** One private fine-tuning run of the grid. `steps` and `batch` are part of it: a changed budget is a new cell. */
export interface Cell {
  family: Family;
  size: string;
  grouping: string;
  epsilon: number;
  lr: number;
  seed: number;
  steps: number;
  batch: number;
}

/** The name of a cell in the results file and its run folder: every field that defines it, in order. */
export function cellKey(c: Cell): string {
  return `${c.family}/${c.size}/${c.grouping}/eps${c.epsilon}/lr${c.lr}/seed${c.seed}/steps${c.steps}/b${c.batch}`;
}

/** Which part of the grid to run; each list defaults to the full grid (lrs: the size's own grid). */
export interface GridChoice {
  family: Family;
  sizes: string[];
  groupings?: readonly string[];
  epsilons?: readonly number[];
  lrs?: readonly number[];
  seeds?: readonly number[];
  steps?: number;
  batch?: number;
}

/**
 * Every cell of the chosen grid, ordered so that an interrupted session leaves whole comparisons:
 * size, then seed, then ε, lr and grouping innermost (all groupings of one setting run back to back).
 */
export function enumerateCells(g: GridChoice): Cell[] {
  const fam = STUDY_SIZES[g.family];
  const cells: Cell[] = [];
  for (const size of g.sizes) {
    const spec = fam.sizes[size];
    if (!spec) throw new Error(`unknown ${g.family} size '${size}' (sizes.json has ${Object.keys(fam.sizes).join(', ')})`);
    for (const seed of g.seeds ?? STUDY_SEEDS)
      for (const epsilon of g.epsilons ?? STUDY_EPSILONS)
        for (const lr of g.lrs ?? spec.lrs)
          for (const grouping of g.groupings ?? STUDY_GROUPINGS)
            cells.push({ family: g.family, size, grouping, epsilon, lr, seed, steps: g.steps ?? fam.finetune.steps, batch: g.batch ?? fam.finetune.batch });
  }
  return cells;
}

/** The cells whose key is not among the finished ones: what a rerun still has to do. */
export function pendingCells(cells: readonly Cell[], finished: ReadonlySet<string>): Cell[] {
  return cells.filter((c) => !finished.has(cellKey(c)));
}

/** `--grouping` (and `--thresholds`) of a study grouping. */
export function groupingFlags(grouping: string): string[] {
  return grouping === 'layer-wise-adaptive' ? ['--grouping', 'layer-wise', '--thresholds', 'adaptive'] : ['--grouping', grouping];
}

/** Where a cell's inputs are: the pre-trained model folder and the data files of its splits. */
export interface CellPaths {
  model: string;
  /** Training data (the private split minus validation). */
  train: string;
  /** Validation data (picks the lr). */
  val: string;
  out: string;
}

/** Run settings that are not part of the cell (they do not change the result's meaning). */
export interface RunSettings {
  backend: string;
  threads?: number;
  /** Keep the first N training examples (toy runs only). */
  limit?: number;
  /** Validation examples scored per run. */
  valLimit?: number;
  /** ViT: a fresh classifier for the private classes (`--new-head`; the class-disjoint transfer task). */
  newHead?: boolean;
}

/**
 * The `clipwise train` flags of one cell: private fine-tuning (Poisson, RDP, δ = 1e-5) of the
 * pre-trained model on the training split with the fixed step budget, evaluated on validation only
 * (no generations: the lr is picked on validation loss / accuracy). The test set is scored afterwards
 * from the checkpoint (run-cell.ts), never during training.
 */
export function trainArgs(c: Cell, p: CellPaths, r: RunSettings): string[] {
  const fam = STUDY_SIZES[c.family];
  const size = fam.sizes[c.size]!;
  const args = [
    'train', '--model', p.model, '--data', p.train, '--eval-data', p.val,
    '--epsilon', String(c.epsilon), '--delta', String(STUDY_DELTA), '--sampling', 'poisson', '--accountant', 'rdp',
    ...groupingFlags(c.grouping), '--clip-norm', '1',
    '--steps', String(c.steps), '--batch-size', String(c.batch), '--max-physical-batch', String(Math.min(size.physicalBatch, c.batch)),
    '--optimizer', 'adamw', '--lr', String(c.lr), '--schedule', 'warmup-cosine', '--warmup', String(Math.max(1, Math.round(c.steps / 20))),
    '--seed', String(c.seed), '--backend', r.backend, '--out', p.out,
    // one evaluation (and checkpoint) at the end, besides step 0's: checkpoints of large models are slow to write
    '--eval-every', String(c.steps),
  ];
  if (c.family === 'gpt2') args.push('--seq-len', String(fam.seqLen), '--gen-limit', '0');
  if (r.threads !== undefined) args.push('--threads', String(r.threads));
  if (r.limit !== undefined) args.push('--limit', String(r.limit));
  if (r.valLimit !== undefined) args.push('--eval-limit', String(r.valLimit));
  if (r.newHead) args.push('--new-head');
  return args;
}
