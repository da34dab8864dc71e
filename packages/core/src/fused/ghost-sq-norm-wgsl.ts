import type * as tf from '@tensorflow/tfjs-core';
import { envSwitch } from '../env-switch';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';

/**
 * Rows of a Gram tile (each workgroup one tile × tile block of both Grams, 8 × 8 threads a K group,
 * each a (tile/8) × (tile/8) block): 32, or 40 where fitted tiles are on and 40 pads T less.
 */
type GhostTileRows = 32 | 40;
/** Columns of g a bias workgroup sums (its threads share them out). */
const BIAS_CHUNK = 256;

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
  const fits = kernelShape.bk === 32 && kernelShape.kg <= 2;
  return fittedGhostTilesEnabled() && fits && paddedArea(t, 40) < paddedArea(t, 32) ? 40 : 32;
}

/**
 * vec4s of one staged row (bk/4 of k, and one of padding): a staged tile is [row][k/4], and a quarter
 * warp's reads of 8 rows (an odd stride of vec4s) fall in distinct banks.
 */
const rowOf = (s: GhostKernelShape) => s.bk / 4 + 1;
/** vec4s of one staged tile (`tile` rows). */
const tileVec4 = (s: GhostKernelShape, tile: number) => tile * rowOf(s);
/** vec4s each thread of a group stages a K step (both tiles: 2·tile·bk/4 over 64 threads). */
const loadsOf = (s: GhostKernelShape, tile: number) => (2 * tile * s.bk) / 4 / 64;

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

/**
 * `load${x}(…)`: this thread's `loadsOf(s, rows)` vec4s of rows [rowI, rowI + rows) and [rowJ, rowJ + rows) × k
 * [kg, kg + bk) of X ([T, K] at `base`) as a `Staged`, zero past T and K (consecutive threads read
 * consecutive vec4s of a row). `vec`: X is bound as vec4s (K a multiple of 4); else four scalar loads
 * make each vec4.
 */
function loadFunction(x: 'A' | 'G', vec: boolean, s: GhostKernelShape, rows: number): string {
  const lines: string[] = [];
  for (let j = 0; j < loadsOf(s, rows); j++) {
    const tile = Math.floor((j * 64) / (rows * s.bk / 4));
    const q = `lid + ${(j * 64) % ((rows * s.bk) / 4)}u`;
    const head = `{ let q = ${q}; let gr = ${tile === 0 ? 'rowI' : 'rowJ'} + q / ${s.bk / 4}u; let gk = kg + (q % ${s.bk / 4}u) * 4u; let e = base + gr * K + gk;`;
    if (vec) {
      lines.push(`${head} s.v${j} = select(vec4<f32>(0.0), ${x}[min(e / 4u, arrayLength(&${x}) - 1u)], gr < T && gk < K); }`);
    } else {
      const el = (c: number) => `select(0.0, ${x}[min(e + ${c}u, arrayLength(&${x}) - 1u)], gr < T && gk + ${c}u < K)`;
      lines.push(`${head} s.v${j} = vec4<f32>(${[0, 1, 2, 3].map(el).join(', ')}); }`);
    }
  }
  return `fn load${x}(base : u32, rowI : u32, rowJ : u32, K : u32, T : u32, kg : u32, lid : u32) -> Staged {
  var s : Staged;
  ${lines.join('\n  ')}
  return s;
}`;
}

/** Stores a `Staged` (as `load${x}` gave it) into the group's staged tiles [row][k/4]. */
function storeStaged(s: GhostKernelShape, rows: number): string {
  const lines: string[] = [];
  for (let j = 0; j < loadsOf(s, rows); j++) {
    const tile = Math.floor((j * 64) / (rows * s.bk / 4));
    const q = `lid + ${(j * 64) % ((rows * s.bk) / 4)}u`;
    lines.push(`{ let q = ${q}; sm[stageBase + ${tile * tileVec4(s, rows)}u + (q / ${s.bk / 4}u) * ${rowOf(s)}u + q % ${s.bk / 4}u] = s.v${j}; }`);
  }
  return `fn storeStaged(s : Staged, stageBase : u32, lid : u32) {
  ${lines.join('\n  ')}
}`;
}

/** 0 … n − 1. */
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The r² accumulators of a thread's r×r block of one Gram tile (r = rows/8): I-rows ty + 8i, J-rows tx + 8j. */
const ACC = (acc: string, r: number) => range(r).flatMap((i) => range(r).map((j) => `${acc}${i}${j}`));

/** acc_ij += Σ_k X[I-row ty + 8i, k] · X[J-row tx + 8j, k] over the group's staged slice. */
function multiply(acc: string, s: GhostKernelShape, rows: number): string {
  const r = rows / 8;
  const lines: string[] = [];
  for (let k4 = 0; k4 < s.bk / 4; k4++) {
    lines.push('{');
    for (let i = 0; i < r; i++) lines.push(`  let x${i} = sm[stageBase + (ty + ${8 * i}u) * ${rowOf(s)}u + ${k4}u];`);
    for (let j = 0; j < r; j++) lines.push(`  let y${j} = sm[stageBase + ${tileVec4(s, rows)}u + (tx + ${8 * j}u) * ${rowOf(s)}u + ${k4}u];`);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++) {
        const a = `${acc}${i}${j}`;
        lines.push(`  ${a} = fma(x${i}.w, y${j}.w, fma(x${i}.z, y${j}.z, fma(x${i}.y, y${j}.y, fma(x${i}.x, y${j}.x, ${a}))));`);
      }
    lines.push('}');
  }
  return lines.join('\n      ');
}

/** Σ_j a_ij · g_ij of a thread's accumulator row i: a vec4 dot on 32-row tiles (r = 4), products summed in order on others. */
const tileRowDot = (i: number, r: number) =>
  r === 4
    ? `dot(vec4<f32>(${range(4).map((j) => `a${i}${j}`).join(', ')}), vec4<f32>(${range(4).map((j) => `g${i}${j}`).join(', ')}))`
    : `(${range(r).map((j) => `a${i}${j} * g${i}${j}`).join(' + ')})`;

/** vec4s a thread's accumulators take in the K groups' reduction (r² values, padded to whole vec4s). */
const reduceVec4 = (r: number) => Math.ceil((r * r) / 4);

/** Adds the K groups' partial tiles into group 0's accumulators (through workgroup memory, half the groups a round). */
function reduceGroups(acc: string, s: GhostKernelShape, rows: number): string {
  const accs = ACC(acc, rows / 8);
  const n = reduceVec4(rows / 8);
  // the accumulators four at a time (the last vec4 padded with zeros)
  const chunk = (c: number) => range(4).map((e) => accs[4 * c + e]);
  const packed = range(n).map((c) => `vec4<f32>(${chunk(c).map((v) => v ?? '0.0').join(', ')})`);
  const add = range(n).map((c) => `{ let v = sm[o + ${c}u]; ${chunk(c).flatMap((v, e) => (v ? [`${v} = ${v} + v[${e}];`] : [])).join(' ')} }`);
  const rounds: string[] = [];
  for (let half = s.kg / 2; half >= 1; half /= 2) {
    rounds.push(`workgroupBarrier();
  if (grp >= ${half}u && grp < ${2 * half}u) { let o = ((grp - ${half}u) * 64u + lid) * ${n}u; ${packed.map((v, i) => `sm[o + ${i}u] = ${v};`).join(' ')} }
  workgroupBarrier();
  if (grp < ${half}u) { let o = (grp * 64u + lid) * ${n}u; ${add.join(' ')} }`);
  }
  // the next Gram's staging reuses this memory
  return `${rounds.join('\n  ')}
  workgroupBarrier();`;
}

/**
 * The Gram tile of X (A or G) over its K, summed over the K groups into group 0's accumulators. The
 * next K step's loads are issued before this one's products (in registers while they run).
 */
function gramLoop(x: 'A' | 'G', base: string, k: 'L.d' | 'L.p', acc: string, prefetch: boolean, s: GhostKernelShape, rows: number): string {
  const step = s.kg * s.bk;
  if (!prefetch) {
    return `
  for (var k0 = 0u; k0 < ${k}; k0 = k0 + ${step}u) {
    let st = load${x}(${base}, rowI, rowJ, ${k}, L.T, k0 + grp * ${s.bk}u, lid);
    workgroupBarrier();
    storeStaged(st, stageBase, lid);
    workgroupBarrier();
    ${multiply(acc, s, rows)}
  }
  ${reduceGroups(acc, s, rows)}`;
  }
  return `
  {
    var k0 = 0u;
    var st = load${x}(${base}, rowI, rowJ, ${k}, L.T, grp * ${s.bk}u, lid);
    loop {
      if (k0 >= ${k}) { break; }
      workgroupBarrier();
      storeStaged(st, stageBase, lid);
      workgroupBarrier();
      let next = k0 + ${step}u;
      if (next < ${k}) { st = load${x}(${base}, rowI, rowJ, ${k}, L.T, next + grp * ${s.bk}u, lid); }
      ${multiply(acc, s, rows)}
      k0 = next;
    }
  }
  ${reduceGroups(acc, s, rows)}`;
}

/** The ghost partials kernel (bindings: partials, a, g, the uniforms). */
function ghostSqNormWgsl(vec: boolean, prefetch: boolean, s: GhostKernelShape, rows: number): string {
  const threads = 64 * s.kg;
  const r = rows / 8;
  const elem = vec ? 'vec4<f32>' : 'f32';
  const biasRead = vec ? 'G[min(i / 4u, arrayLength(&G) - 1u)][i % 4u]' : 'G[min(i, arrayLength(&G) - 1u)]';
  return /* wgsl */ `
struct U { width : u32, T : u32, d : u32, p : u32, blocks : u32, pairs : u32, start : u32, pad0 : u32 };
@group(0) @binding(0) var<storage, read_write> partials : array<f32>;
@group(0) @binding(1) var<storage, read> A : array<${elem}>;
@group(0) @binding(2) var<storage, read> G : array<${elem}>;
@group(0) @binding(3) var<uniform> L : U;

// staging (kg groups × 2 tiles) and, after each Gram, the K groups' reduction (up to kg/2 × 64 × 4 vec4s)
var<workgroup> sm : array<vec4<f32>, ${Math.max(s.kg * 2 * tileVec4(s, rows), (s.kg / 2) * 64 * reduceVec4(r))}>;
var<workgroup> red : array<f32, 64>;
var<workgroup> redBias : array<f32, ${threads}>;
// a thread's share of a K step's staging, loaded before the previous step's products
struct Staged { ${Array.from({ length: loadsOf(s, rows) }, (_, j) => `v${j} : vec4<f32>`).join(', ')} };

fn loadBiasG(i : u32) -> f32 { return ${biasRead}; }
${loadFunction('A', vec, s, rows)}
${loadFunction('G', vec, s, rows)}
${storeStaged(s, rows)}

/** A bias workgroup: Σ over its chunk of columns j of (Σ_t G[b, t, j])², the threads taking columns in turn (4 rows a step in flight). */
fn biasChunk(chunk : u32, b : u32, lid : u32) {
  var sq = 0.0;
  for (var col = lid; col < ${BIAS_CHUNK}u; col = col + ${threads}u) {
    let j = chunk * ${BIAS_CHUNK}u + col;
    var c0 = 0.0; var c1 = 0.0; var c2 = 0.0; var c3 = 0.0;
    if (j < L.p) {
      let base = b * L.T * L.p + j;
      var t = 0u;
      loop {
        if (t + 4u > L.T) { break; }
        let e = base + t * L.p;
        c0 = c0 + loadBiasG(e); c1 = c1 + loadBiasG(e + L.p); c2 = c2 + loadBiasG(e + 2u * L.p); c3 = c3 + loadBiasG(e + 3u * L.p);
        t = t + 4u;
      }
      for (; t < L.T; t = t + 1u) { c0 = c0 + loadBiasG(base + t * L.p); }
    }
    let c = (c0 + c1) + (c2 + c3);
    sq = sq + c * c;
  }
  redBias[lid] = sq;
  workgroupBarrier();
  for (var s = ${threads / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { redBias[lid] = redBias[lid] + redBias[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[b * L.width + L.start + L.pairs + chunk] = redBias[0]; }
}

@compute @workgroup_size(8, 8, ${s.kg})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let tx = l.x;
  let ty = l.y;
  let grp = l.z;
  let lid = ty * 8u + tx;
  let stageBase = grp * ${2 * tileVec4(s, rows)}u;
  let b = wg.y;
  // workgroups past the tile pairs sum the bias's columns (workgroup-uniform: the barriers stay in
  // uniform control flow)
  let pair = wg.x;
  if (pair >= L.pairs) {
    biasChunk(pair - L.pairs, b, grp * 64u + lid);
    return;
  }
  // pair -> (I, J), I <= J, row by row of the upper triangle
  var bi = 0u;
  var r = pair;
  loop {
    let len = L.blocks - bi;
    if (r < len) { break; }
    r = r - len;
    bi = bi + 1u;
  }
  let bj = bi + r;
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
