import * as tf from '@tensorflow/tfjs-core';
import { envSwitch } from '../env-switch';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';
import { ACC, BIAS_CHUNK, biasChunkWgsl, biasLoadWgsl, gramLoop, loadFunction, loadsOf, PAIR_DECODE, range, smVec4s, storeStaged, tileRowDot, gramMainHead, wholeLoads } from './ghost-gram-wgsl';

/**
 * Rows of a Gram tile (each workgroup one tile × tile block of both Grams, 8 × 8 threads a K group,
 * each a (tile/8) × (tile/8) block): 32, or 40 where fitted tiles are on and 40 pads T less; 48 or 64
 * where `setGhostTileRows` asks for them.
 */
type GhostTileRows = 32 | 40 | 48 | 64;

/**
 * How a workgroup splits its work: `bk`, the K each K group stages a step (8, 16 or 32); `kg`, its K
 * groups of 8×8 threads (1, 2, 4 or 8), every group summing its own K slices of the same tile, added up
 * before the Grams are multiplied (a Gram is complete before the product, so K cannot be split across
 * workgroups; within one it can).
 */
export interface GhostKernelShape {
  readonly bk: number;
  readonly kg: number;
}
/**
 * 32 of K a step, 2 K groups (128 threads): the fastest split on an H100 for both GPT-2 small's and
 * ViT-B/16's layers (`gpu-session.sh 15` and `19`: 4.78 against 5.04 ms, 17.6 against 19.3 ms for 16 × 4).
 */
export const DEFAULT_GHOST_KERNEL_SHAPE: GhostKernelShape = Object.freeze({ bk: 32, kg: 2 });
let kernelShape: GhostKernelShape = DEFAULT_GHOST_KERNEL_SHAPE;

/**
 * Sets the kernel's work split (`GhostKernelShape`; null: the default, bk 32 × kg 2), for the kernel's
 * benchmark. The partials are the same sums either way, added in another order.
 *
 * @example
 * setGhostKernelShape({ bk: 16, kg: 4 }); // half the K a step, twice the K groups
 */
export function setGhostKernelShape(shape: GhostKernelShape | null): void {
  const next = shape ?? DEFAULT_GHOST_KERNEL_SHAPE;
  if (!isGhostKernelShape(next)) {
    throw new RangeError(`setGhostKernelShape: bk must be 8, 16 or 32 and kg 1, 2, 4 or 8 (not 8 with bk 32: workgroup memory), got ${JSON.stringify(shape)}`);
  }
  if (tileRowsOverride !== null && !ghostTileRowsFit(tileRowsOverride, next)) {
    throw new RangeError(`setGhostKernelShape: the ${tileRowsOverride}-row tiles set by setGhostTileRows do not fit ${next.bk}x${next.kg}; call setGhostTileRows(null) first`);
  }
  kernelShape = next;
}

/**
 * Whether the kernel takes `shape`: bk 8, 16 or 32 and kg 1, 2, 4 or 8, but not 32 × 8 (its staging
 * would pass 32 KB of workgroup memory).
 *
 * @example
 * isGhostKernelShape({ bk: 32, kg: 2 }); // true
 */
export function isGhostKernelShape(shape: GhostKernelShape): boolean {
  return [8, 16, 32].includes(shape.bk) && [1, 2, 4, 8].includes(shape.kg) && !(shape.kg === 8 && shape.bk === 32);
}

// on since an interleaved A/B on an H100 (gpu-session.sh 29): ViT-B/16's private steps 2.0-2.4 ms faster, 7-8 of 9 rounds
const fittedTiles = envSwitch('CLIPWISE_GHOST_FITTED_TILES', true);

/**
 * Fitted tiles: for a T that 40-row tiles pad less than 32-row ones (ViT's T = 197: 15 tile pairs of
 * 40² against 28 of 32², 24,000 Gram entries against 28,672 for the 19,503 of the upper triangle),
 * the kernel runs on 40-row tiles, each thread a 5 × 5 block (more products a staged read). Only
 * with 32 of K a step and at most 2 K groups (the staging must be whole multiples of a group's loads
 * and fit 32 KB). On by default: `setFittedGhostTiles(false)`, or CLIPWISE_GHOST_FITTED_TILES=off
 * (read once), keeps 32-row tiles everywhere; null: back to the default.
 *
 * @example
 * ghostTileRows(197); // 40 (fitted tiles on, the default)
 * ghostTileRows(128); // 32: four whole tiles
 */
export function setFittedGhostTiles(on: boolean | null): void {
  fittedTiles.set(on);
}

/** The kernel's work split now (`setGhostKernelShape`). */
export function ghostKernelShape(): GhostKernelShape {
  return kernelShape;
}

/** Whether fitted ghost tiles are on (`setFittedGhostTiles`). */
export function fittedGhostTilesEnabled(): boolean {
  return fittedTiles.enabled();
}

/** Gram entries the tiles of `rows` rows cover for T (upper-triangle tile pairs × rows²). */
const paddedArea = (t: number, rows: number) => {
  const blocks = Math.ceil(t / rows);
  return ((blocks * (blocks + 1)) / 2) * rows * rows;
};

/** The Gram tile rows the kernel runs on for T under the current switches and work split. */
export function ghostTileRows(t: number): GhostTileRows {
  if (tileRowsOverride !== null) return tileRowsOverride;
  // the fit is asked last: only a T that 40 rows pad less (ViT's 197, not GPT-2's 128) pays for it
  return fittedGhostTilesEnabled() && paddedArea(t, 40) < paddedArea(t, 32) && ghostTileRowsFit(40, kernelShape) ? 40 : 32;
}

/** Workgroup memory a launch may use: the webgpu device's `maxComputeWorkgroupStorageSize`, else 32 KiB (what the default split's 19 KiB assumes). */
function workgroupBytes(): number {
  const b = tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as { device?: GPUDevice }).device : undefined;
  return b?.limits?.maxComputeWorkgroupStorageSize ?? 32768;
}

/**
 * Whether the kernel takes tiles of `rows` rows under the work split `shape`: each K group's 64 threads
 * stage whole loads of one tile at a time (rows · bk / 4 a multiple of 64), and the staging, the K
 * groups' reduction and the sums fit `limitBytes` of workgroup memory (default: the device's).
 *
 * @example
 * ghostTileRowsFit(64, { bk: 16, kg: 2 }); // true on a 32 KiB device: 20 KiB of staging, 64 accumulators a Gram a thread
 */
export function ghostTileRowsFit(rows: number, shape: GhostKernelShape, limitBytes = workgroupBytes()): boolean {
  if (![32, 40, 48, 64].includes(rows) || !isGhostKernelShape(shape) || !wholeLoads(shape, rows)) return false;
  // the one-launch kernel's arrays: sm, then red (64 floats) and redBias (a float a thread)
  return 16 * smVec4s(shape, rows) + 4 * (64 + 64 * shape.kg) <= limitBytes;
}

let tileRowsOverride: GhostTileRows | null = null;

/**
 * Runs the ghost kernels on tiles of `rows` rows for every T (null: back to 32, or 40 where fitted),
 * for the kernel's benchmark: larger tiles give each thread a larger block (48: 6 × 6, 64: 8 × 8 of
 * each Gram), more products for each staged value (3 and 4 FMAs a value, 2 at 32 rows), on fewer
 * workgroups (GPT-2's T = 128: 3 tile pairs of 64 rows against 10 of 32; the K split restores the
 * count) and more padding. Throws where the work split cannot stage them (`ghostTileRowsFit`).
 *
 * @example
 * setGhostKernelShape({ bk: 16, kg: 2 });
 * setGhostTileRows(64);
 */
export function setGhostTileRows(rows: 32 | 40 | 48 | 64 | null): void {
  if (rows !== null && !ghostTileRowsFit(rows, kernelShape)) {
    throw new RangeError(
      `setGhostTileRows: ${rows}-row tiles do not fit the work split ${kernelShape.bk}x${kernelShape.kg} (rows · bk / 4 must be a multiple of 64 and the staging fit the device's workgroup memory; e.g. 48 with 16x2, 64 with 16x2)`,
    );
  }
  tileRowsOverride = rows;
}


/** Whether a launch loads the next K step while multiplying the current ('always', the default) or not. */
export type GhostPrefetch = 'always' | 'never';
let ghostPrefetch: GhostPrefetch = 'always';

/**
 * Sets which ghost-norm launches prefetch (`GhostPrefetch`): for the kernel's before/after benchmark.
 *
 * @example
 * setGhostNormPrefetch('never'); // stage, wait, multiply: one K step at a time
 */
export function setGhostNormPrefetch(mode: GhostPrefetch): void {
  ghostPrefetch = mode;
}

/** The layer of a ghost partials launch: a [B, T, d], g [B, T, p], and whether its bias's chunks follow its tiles. */
export interface GhostLayer {
  readonly a: tf.TensorInfo;
  readonly g: tf.TensorInfo;
  readonly bias: boolean;
}

/** Upper-triangle tile pairs (I ≤ J) of `blocks` row blocks of the tile `ghostTileRows(t)` picks. */
export function ghostTilePairs(t: number): { blocks: number; pairs: number; tile: GhostTileRows } {
  const tile = ghostTileRows(t);
  const blocks = Math.ceil(t / tile);
  return { blocks, pairs: (blocks * (blocks + 1)) / 2, tile };
}

/**
 * Columns a layer takes in the ghost partials [B, width] (`ghostSqNormPartials`): its tile pairs, then
 * with `bias` its bias's chunks. Also the launch's workgroups per sample.
 *
 * @example
 * ghostLayerWidth(128, 768, false); // 10: the weight's columns, before the bias's (ghostLayerWidth(128, 768, true) = 13)
 */
export function ghostLayerWidth(t: number, p: number, bias: boolean): number {
  return ghostTilePairs(t).pairs + (bias ? Math.ceil(p / BIAS_CHUNK) : 0);
}

/**
 * One launch of the ghost partials kernel over one layer, writing its columns of `out` [B, width] from
 * column `start` on (its tile pairs, then its bias's chunks): a workgroup per column and sample. A launch
 * a layer: batching layers into one launch (a switch on the layer for every K step's loads) ran 3.5–5×
 * slower on GPT-2 small's 48 layers (H100 and H200, 2026-12-05), for the launches it saved.
 */
export function dispatchGhostLayer(out: tf.TensorInfo, { a, g, bias }: GhostLayer, start: number): void {
  const [b, width] = out.shape as [number, number];
  const [, t, d] = a.shape as [number, number, number];
  const p = g.shape[2]!;
  const { blocks, pairs, tile } = ghostTilePairs(t);
  // vec4 loads where every row of both operands starts on a vec4 (d and p multiples of 4)
  const vec = d % 4 === 0 && p % 4 === 0;
  const prefetch = ghostPrefetch === 'always';
  const shape = kernelShape;
  dispatchDirect({
    key: `clipwiseGhostSqNorm_${tile}_${shape.bk}_${shape.kg}_v${+vec}_p${+prefetch}`,
    code: () => ghostSqNormWgsl(vec, prefetch, shape, tile),
    buffers: [{ tensor: out, write: true }, { tensor: a }, { tensor: g }],
    uniforms: packUniforms([width, t, d, p, blocks, pairs, start, 0].map((v) => ['u', v] as const)),
    workgroups: [ghostLayerWidth(t, p, bias), b, 1],
  });
}

/** The ghost partials kernel (bindings: partials, a, g, the uniforms). */
function ghostSqNormWgsl(vec: boolean, prefetch: boolean, s: GhostKernelShape, rows: number): string {
  const threads = 64 * s.kg;
  const r = rows / 8;
  const elem = vec ? 'vec4<f32>' : 'f32';
  return /* wgsl */ `
struct U { width : u32, T : u32, d : u32, p : u32, blocks : u32, pairs : u32, start : u32, pad0 : u32 };
@group(0) @binding(0) var<storage, read_write> partials : array<f32>;
@group(0) @binding(1) var<storage, read> A : array<${elem}>;
@group(0) @binding(2) var<storage, read> G : array<${elem}>;
@group(0) @binding(3) var<uniform> L : U;

// staging (kg groups × 2 tiles) and, after each Gram, the K groups' reduction (up to kg/2 × 64 × 4 vec4s)
var<workgroup> sm : array<vec4<f32>, ${smVec4s(s, rows)}>;
var<workgroup> red : array<f32, 64>;
var<workgroup> redBias : array<f32, ${threads}>;
// a thread's share of a K step's staging, loaded before the previous step's products
struct Staged { ${Array.from({ length: loadsOf(s, rows) }, (_, j) => `v${j} : vec4<f32>`).join(', ')} };

${biasLoadWgsl(vec)}
${loadFunction('A', vec, s, rows)}
${loadFunction('G', vec, s, rows)}
${storeStaged(s, rows)}

${biasChunkWgsl(threads)}

${gramMainHead(s, rows)}
  // workgroups past the tile pairs sum the bias's columns (workgroup-uniform: the barriers stay in
  // uniform control flow)
  let pair = wg.x;
  if (pair >= L.pairs) {
    biasChunk(pair - L.pairs, b, grp * 64u + lid);
    return;
  }
  ${PAIR_DECODE}
  let rowI = bi * ${rows}u;
  let rowJ = bj * ${rows}u;
  let baseA = b * L.T * L.d;
  let baseG = b * L.T * L.p;
  ${ACC('a', r).map((v) => `var ${v} = 0.0;`).join(' ')}
  ${ACC('g', r).map((v) => `var ${v} = 0.0;`).join(' ')}
  ${gramLoop('A', 'baseA', 'L.d', 'a', prefetch, s, rows)}
  ${gramLoop('G', 'baseG', 'L.p', 'g', prefetch, s, rows)}
  // off-diagonal tiles stand for their mirror image too
  let w = select(2.0, 1.0, bi == bj);
  if (grp == 0u) { red[lid] = w * (${range(r).map((i) => tileRowDot(i, r)).join(' + ')}); }
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (grp == 0u && lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  if (grp == 0u && lid == 0u) { partials[b * L.width + L.start + pair] = red[0]; }
}
`;
}
