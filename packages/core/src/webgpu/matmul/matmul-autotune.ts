import * as tf from '@tensorflow/tfjs-core';
import { syncDevice } from '../../sync-device';
import { productVariantReplay, type ProductReplay } from '../../fused/product-variant-replay';
import { fillingSplits, MATMUL_TILES, matmulVariantTuningEnabled, planMatmul, planOnTile, TARGET_WORKGROUPS, recordMatmulProblems, setMatmulChoice, setMatmulTileOverride, type MatmulChoice, type MatmulProblem, type MatmulTileName } from './matmul-plan';

/** One tuned problem: the plan it had before tuning (the heuristic's, on a first tuning) and the one chosen, in ms per product (wall clock). */
export interface MatmulTuneRow {
  readonly problem: MatmulProblem;
  readonly gflop: number;
  readonly before: MatmulChoice & { readonly ms: number };
  readonly chosen: MatmulChoice & { readonly ms: number };
}

export interface AutotuneOptions {
  /** Tiles to try (default: every tile of `MATMUL_TILES`). */
  readonly tiles?: readonly MatmulTileName[];
  /** A candidate replaces the plan before only when it is this much faster (default 0.03: 3%). */
  readonly minGain?: number;
  /** Problems whose before product takes less (ms) are left alone: their launch, not their tile, costs (default 0.02). */
  readonly minMs?: number;
  /** Timed trials per candidate; the fastest counts (default 3). */
  readonly trials?: number;
  /** Problems whose operands and output together exceed this are skipped (default 3 GiB). */
  readonly maxBytes?: number;
  /**
   * Also tune the scaled products (`MatmulProblem.variant`) as they run, through the op that runs them,
   * after the plain products of their shapes (default: `matmulVariantTuningEnabled()`); without, they
   * are skipped and plan by their shape's plain choice.
   */
  readonly variants?: boolean;
}

/** Wall-clock ms per product with `choice` forced: the fastest of `trials` runs of back-to-back products (`run` enqueues one and returns its outputs). */
async function timeChoice(run: () => tf.Tensor[], choice: MatmulChoice, trials: number): Promise<number> {
  setMatmulTileOverride(choice);
  try {
    const once = async (reps: number): Promise<number> => {
      const t0 = performance.now();
      let last: tf.Tensor[] = [];
      for (let r = 0; r < reps; r++) {
        tf.dispose(last);
        last = run();
      }
      await syncDevice(last[0]);
      tf.dispose(last);
      return (performance.now() - t0) / reps;
    };
    await once(1); // compiles the variant
    const single = await once(1);
    // enough products per trial that the wait for the result is a small part of it (~4 ms of work)
    const reps = Math.max(1, Math.min(50, Math.round(4 / Math.max(single, 1e-3))));
    let best = Infinity;
    for (let t = 0; t < trials; t++) best = Math.min(best, await once(reps));
    return best;
  } finally {
    setMatmulTileOverride(null);
  }
}

/**
 * The candidates of a problem: each tile alone and, for a long reduction, with the splits that fill
 * the GPU; less those that leave most of the GPU idle where another fills it (a quarter of the best
 * workgroup count, up to `TARGET_WORKGROUPS`), which are not worth timing.
 */
function candidates(p: MatmulProblem, tiles: readonly MatmulTileName[]): MatmulChoice[] {
  const out = new Map<string, MatmulChoice & { readonly workgroups: number }>();
  const binding = p.strided ? 0 : 2 ** 31 - 4;
  for (const tile of tiles) {
    for (const wanted of p.strided ? [1] : [1, fillingSplits(tile, p.batch, p.m, p.n, p.k)]) {
      const plan = planOnTile(tile, wanted, p.batch, p.m, p.n, p.k, binding);
      out.set(`${tile}|${plan.splits}`, { tile, splits: plan.splits, workgroups: plan.workgroups[0] * plan.workgroups[1] * plan.workgroups[2] });
    }
  }
  const fill = Math.max(...[...out.values()].map((c) => Math.min(c.workgroups, TARGET_WORKGROUPS)));
  return [...out.values()].filter((c) => c.workgroups >= fill / 4).map(({ tile, splits }) => ({ tile, splits }));
}

/**
 * Times each candidate tile (and split count) on the recorded products, with operands of their shapes,
 * and sets the fastest as the plan of that problem (and of problems within 1.5× of its M and batch)
 * where it beats the before plan by `minGain`. Plain products run as `tf.matMul`; with `variants`, the
 * scaled ones (`MatmulProblem.variant`) are timed through the Book-Keeping op that runs them
 * (`productVariantReplay`), their before being their shape's plain choice. webgpu only: elsewhere it
 * returns [] at once.
 */
export async function tuneMatmulProblems(problems: readonly MatmulProblem[], o: AutotuneOptions = {}): Promise<MatmulTuneRow[]> {
  if (tf.getBackend() !== 'webgpu') return [];
  const tiles = o.tiles ?? (Object.keys(MATMUL_TILES) as MatmulTileName[]);
  const rows: MatmulTuneRow[] = [];
  const variants = o.variants ?? matmulVariantTuningEnabled();
  // plain products first: a scaled product's before is then its shape's plain choice, what it runs without its own
  const ordered = [...problems.filter((p) => !p.variant), ...(variants ? problems.filter((p) => p.variant) : [])];
  for (const p of ordered) {
    const bytes = 4 * p.batch * (p.m * p.k + p.k * p.n + p.m * p.n);
    if (bytes > (o.maxBytes ?? 3 * 2 ** 30)) continue;
    const product = p.variant ? productVariantReplay(p) : plainProduct(p);
    if (!product) continue;
    const beforePlan = planMatmul(p.batch, p.m, p.n, p.k, p.strided ? 0 : 2 ** 31 - 4, p.transposeA, p.transposeB, p.variant);
    const before: MatmulChoice = { tile: beforePlan.tileName, splits: beforePlan.splits };
    try {
      const trials = o.trials ?? 3;
      let beforeMs = await timeChoice(product.run, before, trials);
      let chosen = { ...before, ms: beforeMs };
      if (beforeMs >= (o.minMs ?? 0.02)) {
        for (const c of candidates(p, tiles)) {
          if (c.tile === before.tile && c.splits === before.splits) continue;
          const ms = await timeChoice(product.run, c, trials);
          if (ms < chosen.ms) chosen = { ...c, ms };
        }
        // timed again last: the first timing of a problem ran slow on the H200 (the GPU idles while the
        // operands are made and the candidates compile), which favoured every other tile
        beforeMs = Math.min(beforeMs, await timeChoice(product.run, before, trials));
        if (chosen.ms > beforeMs * (1 - (o.minGain ?? 0.03))) chosen = { ...before, ms: beforeMs };
      }
      setMatmulChoice(p, { tile: chosen.tile, splits: chosen.splits });
      rows.push({ problem: p, gflop: (2 * p.batch * p.m * p.n * p.k) / 1e9, before: { ...before, ms: beforeMs }, chosen });
    } finally {
      product.dispose();
    }
  }
  return rows;
}

/** A plain product of the problem's shapes on random operands (`tf.matMul`, as the step's plain products run). */
function plainProduct(p: MatmulProblem): ProductReplay {
  const batched = (rows: number, cols: number) => (p.batch > 1 ? [p.batch, rows, cols] : [rows, cols]);
  const a = tf.randomNormal(p.transposeA ? batched(p.k, p.m) : batched(p.m, p.k));
  const b = tf.randomNormal(p.transposeB ? batched(p.n, p.k) : batched(p.k, p.n));
  return { run: () => [tf.matMul(a, b, p.transposeA, p.transposeB)], dispose: () => tf.dispose([a, b]) };
}

/**
 * Records the matmul problems that `run` (e.g. one training step) plans, then tunes them
 * (`tuneMatmulProblems`): afterwards every product of those shapes runs the tile measured fastest.
 *
 * @example
 * await setupBackend('webgpu');
 * const rows = await autotuneMatmul(() => step.run());
 * console.log(formatMatmulTuning(rows));
 */
export async function autotuneMatmul(run: () => Promise<unknown>, o: AutotuneOptions = {}): Promise<MatmulTuneRow[]> {
  recordMatmulProblems(true);
  let problems: MatmulProblem[];
  try {
    await run();
  } finally {
    problems = recordMatmulProblems(false);
  }
  return tuneMatmulProblems(problems, o);
}

/** A markdown table of tuned problems, most time saved first. */
export function formatMatmulTuning(rows: readonly MatmulTuneRow[]): string {
  const sorted = [...rows].sort((x, y) => y.before.ms - y.chosen.ms - (x.before.ms - x.chosen.ms));
  const tflops = (gflop: number, ms: number) => (gflop / ms).toFixed(1);
  return [
    '| batch×M×N×K (Aᵀ, Bᵀ) | tile ×splits before | ms | TFLOP/s | chosen | ms | TFLOP/s |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: |',
    ...sorted.map(({ problem: p, gflop, before: h, chosen: c }) =>
      `| ${p.batch}×${p.m}×${p.n}×${p.k} (${+p.transposeA}, ${+p.transposeB})${p.variant ? ` ${p.variant.kind}` : ''} | ${h.tile} ×${h.splits} | ${h.ms.toFixed(3)} | ${tflops(gflop, h.ms)} | ${c.tile} ×${c.splits} | ${c.ms.toFixed(3)} | ${tflops(gflop, c.ms)} |`,
    ),
  ].join('\n');
}
