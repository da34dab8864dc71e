import { envSwitch } from '../../env-switch';
import type { MatmulTile } from './matmul-wgsl';

/**
 * Tile configurations (256 threads but where noted). The `…w` tiles lay a warp out as an 8×4 block of
 * threads (`MatmulTile.lanes`); `xwide`/`xtall` give a thread 8×16 / 16×8 outputs, `large8x` 16×8 with
 * 128 threads. The heuristic plan uses the first six; `autotuneMatmul` may pick any.
 */
export const MATMUL_TILES = {
  large: { bm: 128, bn: 128, bk: 16, rm: 2, rn: 2 },
  large8: { bm: 128, bn: 128, bk: 8, rm: 2, rn: 2 },
  tall: { bm: 128, bn: 64, bk: 16, rm: 2, rn: 1 },
  wide: { bm: 64, bn: 128, bk: 16, rm: 1, rn: 2 },
  medium: { bm: 64, bn: 64, bk: 16, rm: 1, rn: 1 },
  small: { bm: 32, bn: 32, bk: 16, rm: 1, rn: 1 },
  large8w: { bm: 128, bn: 128, bk: 8, rm: 2, rn: 2, lanes: [8, 4] },
  large16w: { bm: 128, bn: 128, bk: 16, rm: 2, rn: 2, lanes: [8, 4] },
  large8x: { bm: 128, bn: 128, bk: 8, rm: 4, rn: 2, lanes: [8, 4] },
  xwide8w: { bm: 128, bn: 256, bk: 8, rm: 2, rn: 4, lanes: [8, 4] },
  xtall8w: { bm: 256, bn: 128, bk: 8, rm: 4, rn: 2, lanes: [8, 4] },
  wide16w: { bm: 64, bn: 128, bk: 16, rm: 1, rn: 2, lanes: [8, 4] },
  medium16w: { bm: 64, bn: 64, bk: 16, rm: 1, rn: 1, lanes: [8, 4] },
} as const satisfies Record<string, MatmulTile>;

export type MatmulTileName = keyof typeof MATMUL_TILES;

/** How one product runs: the tile, how many K slices (split-K), and the grid. */
export interface MatmulPlan {
  readonly tileName: MatmulTileName;
  readonly tile: MatmulTile;
  readonly splits: number;
  /** K per split, a multiple of the tile's bk. */
  readonly kPerSplit: number;
  readonly workgroups: [number, number, number];
}

/**
 * Enough workgroups to fill the GPU: 3 per multiprocessor of an H100/H200 (132 SMs), so that a
 * second wave is not a small fraction (measured: LM head dx split 4 ways 25 TFLOP/s, 3 ways 19).
 */
export const TARGET_WORKGROUPS = 396;
/** Shortest K slice worth a split (partials cost a write and a read of the output per slice). */
const MIN_K_PER_SPLIT = 256;

const grid = (t: MatmulTile, batch: number, m: number, n: number) => Math.ceil(n / t.bn) * Math.ceil(m / t.bm) * batch;

let override: { tile: MatmulTileName; splits?: number } | null = null;

/**
 * How a product scales A's K axis, for tuning it as it runs (`setMatmulVariantTuning`): by given
 * per-sample factors over groups of `group` rows (`k-scale`: all-layer's Book-Keeping products), or by
 * factors every workgroup forms from [B, width] squared-norm partials (`clip`: layer-wise's and
 * param-wise's, `apartFrom` > 0 where a bias is clipped apart from its columns on). `ones`: the row
 * (under A) or column (beside B) of ones that sums a bias in the same product.
 */
export type MatmulProductVariant =
  | { readonly kind: 'k-scale'; readonly group: number; readonly ones: 'row' | 'col' | null }
  | { readonly kind: 'clip'; readonly group: number; readonly ones: 'row' | 'col'; readonly width: number; readonly apartFrom: number };

/** A product's shape as the plan sees it (the tuning key). `strided`: no split-K (written in place). */
export interface MatmulProblem {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly strided: boolean;
  /** Set on the problems of scaled products recorded for variant tuning; absent on plain ones. */
  readonly variant?: MatmulProductVariant;
}

/** A tuned choice: the tile and split count `autotuneMatmul` measured fastest for a problem. */
export interface MatmulChoice {
  readonly tile: MatmulTileName;
  readonly splits: number;
}

const variantKey = (v: MatmulProductVariant | undefined) => (!v ? '' : v.kind === 'k-scale' ? `|k${v.group}${v.ones ?? '-'}` : `|c${v.group}${v.ones}${v.width}a${v.apartFrom}`);
const keyOf = (p: MatmulProblem) => `${p.batch}|${p.m}|${p.n}|${p.k}|${+p.transposeA}${+p.transposeB}|${+p.strided}${variantKey(p.variant)}`;
const tuned = new Map<string, { problem: MatmulProblem; choice: MatmulChoice }>();
/** Lookups resolved to a tuned neighbour (or to none: null), cleared whenever the table changes. */
const resolved = new Map<string, MatmulChoice | null>();
let recording: Map<string, MatmulProblem> | null = null;

/** Starts (or stops, returning what was seen) recording the problems the plan is asked for. */
export function recordMatmulProblems(on: boolean): MatmulProblem[] {
  const seen = recording ? [...recording.values()] : [];
  recording = on ? new Map() : null;
  return seen;
}

/** Sets the tuned choice of a problem (null removes it); `clearMatmulTuning()` forgets them all. */
export function setMatmulChoice(p: MatmulProblem, choice: MatmulChoice | null): void {
  if (choice) tuned.set(keyOf(p), { problem: p, choice });
  else tuned.delete(keyOf(p));
  resolved.clear();
}

export function clearMatmulTuning(): void {
  tuned.clear();
  resolved.clear();
}

/** The tuned choices, e.g. to print or save them. */
export function matmulTuning(): { problem: MatmulProblem; choice: MatmulChoice }[] {
  return [...tuned.values()];
}

let tuningActive = true;

/**
 * Whether the tuned choices are used (default true): false plans every product by the heuristic
 * while keeping the tuned table, so that one run can time both plans step by step (an interleaved
 * A/B, `clipwise bench --ab matmul-tuning`). null: back to the default.
 *
 * @example
 * await autotuneMatmul(step);
 * setMatmulTuningActive(false); // the heuristic's plans
 * await step();
 * setMatmulTuningActive(null); // the tuned ones again
 */
export function setMatmulTuningActive(on: boolean | null): void {
  tuningActive = on ?? true;
}

/** Whether planMatmul uses the tuned choices (`setMatmulTuningActive`). */
export function matmulTuningActive(): boolean {
  return tuningActive;
}

// on since an interleaved A/B on an H100 (sixteenth session, `clipwise bench --ab variant-tuning`): every
// private configuration of GPT-2 and ViT 0.1-0.5 ms faster a step, none slower
const variantTuning = envSwitch('CLIPWISE_MATMUL_VARIANT_TUNING', true);

/**
 * Variant tuning: the scaled products of a private step (`MatmulProductVariant`) plan by choices tuned
 * on those products as they run (`tuneMatmulProblems` times them through the op that runs them), where
 * the tuning has them, instead of by the choice tuned on a plain product of the same shape. A plain
 * product's best tile need not be the scaled one's: on an H100 (`apps/finetune/bench/clip-product.ts`,
 * fifteenth session) ViT-B/16's 768 × 768 product on the tile tuned plain took 0.386 ms with its clip
 * factors formed in the product against 0.297 given them. On by default (it only steers products the
 * tuning timed as they run): `setMatmulVariantTuning(false)` or CLIPWISE_MATMUL_VARIANT_TUNING=off (read
 * once) plans them by their shapes' plain choices; null: back to the default.
 *
 * @example
 * setMatmulVariantTuning(true);
 * await autotuneMatmul(() => step.run(), { variants: true }); // plain and scaled products tuned apart
 */
export function setMatmulVariantTuning(on: boolean | null): void {
  variantTuning.set(on);
  resolved.clear();
}

/** Whether scaled products plan by their own tuned choices (`setMatmulVariantTuning`). */
export function matmulVariantTuningEnabled(): boolean {
  return variantTuning.enabled();
}

const sameVariant = (a: MatmulProductVariant | undefined, b: MatmulProductVariant | undefined) => variantKey(a) === variantKey(b);

/**
 * The choice tuned for this problem or, failing that, for the nearest tuned one of the same N, K,
 * transposes and variant whose M and batch are within 1.5× (a Poisson batch changes M = B·T a little
 * each step).
 */
function tunedChoice(p: MatmulProblem): MatmulChoice | null {
  if (tuned.size === 0 || !tuningActive) return null;
  const key = keyOf(p);
  const hit = resolved.get(key);
  if (hit !== undefined) return hit;
  let best: MatmulChoice | null = tuned.get(key)?.choice ?? null;
  if (!best) {
    let bestScore = Math.log(1.5);
    for (const { problem: q, choice } of tuned.values()) {
      if (q.n !== p.n || q.k !== p.k || q.transposeA !== p.transposeA || q.transposeB !== p.transposeB || q.strided !== p.strided || !sameVariant(q.variant, p.variant)) continue;
      const score = Math.max(Math.abs(Math.log(q.m / p.m)), Math.abs(Math.log(q.batch / p.batch)));
      if (score <= bestScore) [best, bestScore] = [choice, score];
    }
  }
  resolved.set(key, best);
  return best;
}

/** The tile forced by `setMatmulTileOverride`, or null. */
export function matmulTileOverride(): { tile: MatmulTileName; splits?: number } | null {
  return override;
}

/** Forces one tile (and split count) for every product: for tuning and tests; null restores the heuristic. */
export function setMatmulTileOverride(o: { tile: MatmulTileName; splits?: number } | null): void {
  override = o;
}

/**
 * The plan of a product on a given tile with up to `wanted` K splits (fewer where the split-K partials
 * [batch·splits, M, N] would not fit one storage binding, or K runs out).
 *
 * @example
 * const plan = planOnTile('large8', 4, 1, 768, 768, 8192); // 4 splits of 2048
 */
export function planOnTile(tileName: MatmulTileName, wanted: number, batch: number, m: number, n: number, k: number, maxBindingBytes = 2 ** 31 - 4): MatmulPlan {
  const tile = MATMUL_TILES[tileName];
  const splits = Math.max(1, Math.min(wanted, Math.floor(maxBindingBytes / (4 * batch * m * n))));
  const kPerSplit = Math.ceil(Math.ceil(k / splits) / tile.bk) * tile.bk;
  const used = Math.max(1, Math.ceil(k / kPerSplit));
  return { tileName, tile, splits: used, kPerSplit, workgroups: [Math.ceil(n / tile.bn), Math.ceil(m / tile.bm), batch * used] };
}

/**
 * Picks the tile by shape class: the large tile where it alone fills the GPU; split-K of the large
 * tile for long reductions with few output tiles (weight gradients, K = B·T; ghost norms' dy·dyᵀ over
 * a vocabulary); else the largest smaller tile that fills it. Split-K partials must fit
 * `maxBindingBytes` (one storage binding): 0 forbids split-K. `variant`: how the product scales A's
 * K axis, where it does (recorded for variant tuning, and planned by its own tuned choice with
 * `setMatmulVariantTuning(true)`).
 */
export function planMatmul(batch: number, m: number, n: number, k: number, maxBindingBytes = 2 ** 31 - 4, transposeA = false, transposeB = false, variant?: MatmulProductVariant): MatmulPlan {
  const make = (tileName: MatmulTileName, wanted: number): MatmulPlan => planOnTile(tileName, wanted, batch, m, n, k, maxBindingBytes);
  if (override) return make(override.tile, override.splits ?? 1);
  // every product asks: build its problem only while recording or tuned (no allocation otherwise)
  if (recording || tuned.size > 0) {
    const problem: MatmulProblem = { batch, m, n, k, transposeA, transposeB, strided: maxBindingBytes === 0 };
    // a scaled product is recorded twice: as the plain product of its shape and as itself
    const scaled: MatmulProblem | null = variant ? { ...problem, variant } : null;
    if (recording) {
      recording.set(keyOf(problem), problem);
      if (scaled) recording.set(keyOf(scaled), scaled);
    }
    const choice = (scaled && variantTuning.enabled() ? tunedChoice(scaled) : null) ?? tunedChoice(problem);
    if (choice) return make(choice.tile, choice.splits);
  }
  return heuristicPlan(batch, m, n, k, make);
}

/** The split count that fills the GPU with `tile` for a long reduction (1 where K is too short to split). */
export function fillingSplits(tile: MatmulTileName, batch: number, m: number, n: number, k: number): number {
  if (k < 4 * MIN_K_PER_SPLIT) return 1;
  const g = grid(MATMUL_TILES[tile], batch, m, n);
  return g >= TARGET_WORKGROUPS ? 1 : Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / g), Math.floor(k / MIN_K_PER_SPLIT)));
}

// on since an interleaved A/B on an H100 (gpu-session.sh 29): ViT-B/16 2.0-2.3 ms a step faster (7-8 of 9
// rounds), GPT-2 small 0.6-1.2 ms
const narrowTiles = envSwitch('CLIPWISE_MATMUL_NARROW', true);

/**
 * Narrow tiles for narrow products: where N ≤ 64 (attention's P·V, dQ, dK and dV at head width 64,
 * 384 heads for ViT-B/16 at B = 32) the 128 × 128 tile leaves half its columns empty, and the tall
 * 128 × 64 tile covers them whole (77% of its area useful at T = 197, against 38%); with fewer heads
 * (GPT-2 small at B = 16, where the 64 × 128 tile served) the 64 × 64 one. On by default:
 * `setNarrowTiles(false)`, or CLIPWISE_MATMUL_NARROW=off (read once), plans them as wide products;
 * null: back to the default.
 *
 * @example
 * planMatmul(384, 197, 64, 197).tileName; // 'tall' (narrow tiles on, the default)
 * setNarrowTiles(false);
 */
export function setNarrowTiles(on: boolean | null): void {
  narrowTiles.set(on);
}

/** Whether narrow products run on narrow tiles (`setNarrowTiles`). */
export function narrowTilesEnabled(): boolean {
  return narrowTiles.enabled();
}

function heuristicPlan(batch: number, m: number, n: number, k: number, make: (tile: MatmulTileName, wanted: number) => MatmulPlan): MatmulPlan {
  if (n <= 64 && m > 64 && narrowTilesEnabled()) {
    if (grid(MATMUL_TILES.tall, batch, m, n) >= TARGET_WORKGROUPS) return make('tall', 1);
    // fewer heads (GPT-2 small at B = 16: 192): the 64 × 64 tile where the heuristic would take the 64 × 128 one
    if (k < 4 * MIN_K_PER_SPLIT && grid(MATMUL_TILES.medium, batch, m, n) >= TARGET_WORKGROUPS / 2) return make('medium', 1);
  }
  // bk 8 beat bk 16 on the big GPT-2/ViT shapes on the H200 (LM head forward 36 against 27 TFLOP/s)
  const large = grid(MATMUL_TILES.large8, batch, m, n);
  if (large >= TARGET_WORKGROUPS) return make('large8', 1);
  if (k >= 4 * MIN_K_PER_SPLIT) return make('large8', Math.min(Math.ceil(TARGET_WORKGROUPS / large), Math.floor(k / MIN_K_PER_SPLIT)));
  for (const name of ['wide', 'medium'] as const) if (grid(MATMUL_TILES[name], batch, m, n) >= TARGET_WORKGROUPS / 2) return make(name, 1);
  return make('small', 1);
}
