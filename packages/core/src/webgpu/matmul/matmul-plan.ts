import type { MatmulTile } from './matmul-wgsl';

/** Tile configurations, largest first (each 256 threads but the smallest, 64). */
export const MATMUL_TILES = {
  large: { bm: 128, bn: 128, bk: 16, rm: 2, rn: 2 },
  large8: { bm: 128, bn: 128, bk: 8, rm: 2, rn: 2 },
  tall: { bm: 128, bn: 64, bk: 16, rm: 2, rn: 1 },
  wide: { bm: 64, bn: 128, bk: 16, rm: 1, rn: 2 },
  medium: { bm: 64, bn: 64, bk: 16, rm: 1, rn: 1 },
  small: { bm: 32, bn: 32, bk: 16, rm: 1, rn: 1 },
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

/** Forces one tile (and split count) for every product: for tuning and tests; null restores the heuristic. */
export function setMatmulTileOverride(o: { tile: MatmulTileName; splits?: number } | null): void {
  override = o;
}

/**
 * Picks the tile by shape class: the large tile where it alone fills the GPU; split-K of the large
 * tile for long reductions with few output tiles (weight gradients, K = B·T; ghost norms' dy·dyᵀ over
 * a vocabulary); else the largest smaller tile that fills it. Split-K partials must fit
 * `maxBindingBytes` (one storage binding): 0 forbids split-K.
 */
export function planMatmul(batch: number, m: number, n: number, k: number, maxBindingBytes = 2 ** 31 - 4): MatmulPlan {
  const make = (tileName: MatmulTileName, wanted: number): MatmulPlan => {
    const tile = MATMUL_TILES[tileName];
    // split-K partials [batch·splits, M, N] must fit one storage binding
    const splits = Math.max(1, Math.min(wanted, Math.floor(maxBindingBytes / (4 * batch * m * n))));
    const kPerSplit = Math.ceil(Math.ceil(k / splits) / tile.bk) * tile.bk;
    const used = Math.max(1, Math.ceil(k / kPerSplit));
    return { tileName, tile, splits: used, kPerSplit, workgroups: [Math.ceil(n / tile.bn), Math.ceil(m / tile.bm), batch * used] };
  };
  if (override) return make(override.tile, override.splits ?? 1);
  // bk 8 beat bk 16 on the big GPT-2/ViT shapes on the H200 (LM head forward 36 against 27 TFLOP/s)
  const large = grid(MATMUL_TILES.large8, batch, m, n);
  if (large >= TARGET_WORKGROUPS) return make('large8', 1);
  if (k >= 4 * MIN_K_PER_SPLIT) return make('large8', Math.min(Math.ceil(TARGET_WORKGROUPS / large), Math.floor(k / MIN_K_PER_SPLIT)));
  for (const name of ['wide', 'medium'] as const) if (grid(MATMUL_TILES[name], batch, m, n) >= TARGET_WORKGROUPS / 2) return make(name, 1);
  return make('small', 1);
}
