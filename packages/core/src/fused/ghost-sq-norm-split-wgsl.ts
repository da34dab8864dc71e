import * as tf from '@tensorflow/tfjs-core';
import { envSetting } from '../env-switch';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';
import { ACC, biasChunkWgsl, biasLoadWgsl, gramLoop, loadFunction, loadsOf, PAIR_DECODE, range, smVec4s, storeStaged, gramMainHead } from './ghost-gram-wgsl';
import { dispatchGhostLayer, ghostKernelShape, ghostLayerWidth, ghostTilePairs, type GhostKernelShape, type GhostLayer } from './ghost-sq-norm-wgsl';

// The ghost partials with K split over workgroups: where B × tile pairs is a few hundred workgroups
// (GPT-2 small at B16×T128: 160, on a GPU of 132 SMs), the one-launch kernel leaves most of the GPU idle
// while each workgroup walks all of d + p. Here each workgroup forms one Gram tile (A's or G's) over a
// chunk of its K and writes it out; a second launch sums the chunks, multiplies the two Grams and reduces
// (with the bias's column chunks in its extra workgroups), so the partials are the same sums, added in
// another order.

/** The workgroups the split aims at (B × pairs × chunks), or 0 for the one-launch kernel everywhere. */
// CLIPWISE_GHOST_SPLIT_K: on for the default target, a whole number for its own, else 0 (off)
const target = envSetting('CLIPWISE_GHOST_SPLIT_K', (v) => {
  const n = v === 'on' ? DEFAULT_GHOST_SPLIT_TARGET : Number(v ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
});
/** What `CLIPWISE_GHOST_SPLIT_K=on` means: about 16 workgroups an SM on a 132-SM GPU. */
export const DEFAULT_GHOST_SPLIT_TARGET = 2048;
/** More chunks of one Gram than this cost more in the second launch's reads than they add in parallelism. */
const MAX_CHUNKS = 16;
/** Workgroups a dimension of one dispatch may have (WebGPU's default limit). */
const MAX_WORKGROUPS = 65535;
/** The largest scratch of Gram tiles a split may write (a large target on a long T would ask for GBs). */
const MAX_SCRATCH_BYTES = 64 * 1024 * 1024;

/**
 * Sets the ghost norm's K split: the number of workgroups it aims at (B × tile pairs × K chunks), 0 for
 * the one-launch kernel, null for the default (CLIPWISE_GHOST_SPLIT_K: `on` for 2048, a number, or
 * unset/`off` for 0). A layer whose B × pairs already reaches half the target keeps the one-launch kernel.
 *
 * @example
 * setGhostSplitK(2048); // GPT-2 small B16×T128's layers: 160 workgroups become 1,920 and a sum launch
 */
export function setGhostSplitK(workgroups: number | null): void {
  if (workgroups !== null && !(Number.isInteger(workgroups) && workgroups >= 0)) {
    throw new RangeError(`setGhostSplitK: workgroups must be a whole number ≥ 0 (0: no split) or null, got ${workgroups}`);
  }
  target.set(workgroups);
}

/** The workgroups the ghost norm's K split aims at now (`setGhostSplitK`; 0: off). */
export function ghostSplitTarget(): number {
  return target.get();
}

/** How a layer's K splits: chunks of A's d and G's p, their lengths (whole K steps of the work split). */
export interface GhostSplit {
  readonly chunksA: number;
  readonly chunksG: number;
  readonly lenA: number;
  readonly lenG: number;
}

/**
 * The K split of a layer (B, T, d, p) under the current target and work split, or null where the
 * one-launch kernel runs (split off, B × pairs at half the target or more, too many workgroups for a
 * dispatch, a scratch above 64 MiB). Chunks go to d and p in proportion, at least one each.
 *
 * @example
 * ghostSplit(16, 128, 768, 2304); // target 2048: { chunksA: 3, chunksG: 9, lenA: 256, lenG: 256 }
 */
export function ghostSplit(b: number, t: number, d: number, p: number, shape: GhostKernelShape = ghostKernelShape()): GhostSplit | null {
  const want = ghostSplitTarget();
  // off (the default): nothing more to work out on the launch's path
  if (want === 0) return null;
  const { pairs, tile } = ghostTilePairs(t);
  const total = Math.min(2 * MAX_CHUNKS, Math.ceil(want / (b * pairs)));
  if (total < 2) return null;
  const step = shape.bk * shape.kg;
  const share = Math.min(MAX_CHUNKS, Math.max(1, Math.round((total * d) / (d + p))));
  const lenOf = (k: number, n: number) => Math.ceil(Math.ceil(k / n) / step) * step;
  const lenA = lenOf(d, share);
  const lenG = lenOf(p, Math.min(MAX_CHUNKS, Math.max(1, total - share)));
  const split = { chunksA: Math.ceil(d / lenA), chunksG: Math.ceil(p / lenG), lenA, lenG };
  const chunks = split.chunksA + split.chunksG;
  return pairs * chunks > MAX_WORKGROUPS || b * pairs * chunks * tile * tile * 4 > MAX_SCRATCH_BYTES ? null : split;
}

type Backend = { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo; disposeData(id: unknown): void };

/**
 * A layer's ghost partials into `out`'s columns from `start` on (as `dispatchGhostLayer`): with K split
 * where `ghostSplit` says so (two launches and a scratch of B × pairs × chunks Gram tiles, freed once
 * recorded), else the one-launch kernel.
 */
export function dispatchGhostPartials(out: tf.TensorInfo, layer: GhostLayer, start: number): void {
  const [b, t, d] = layer.a.shape as [number, number, number];
  const p = layer.g.shape[2]!;
  const split = ghostSplit(b, t, d, p);
  if (!split) return dispatchGhostLayer(out, layer, start);
  const { blocks, pairs, tile } = ghostTilePairs(t);
  const chunks = split.chunksA + split.chunksG;
  const area = tile * tile;
  const vec = d % 4 === 0 && p % 4 === 0;
  const shape = ghostKernelShape();
  const backend = tf.backend() as unknown as Backend;
  const scratch = backend.makeTensorInfo([b * pairs * chunks * area], 'float32');
  dispatchDirect({
    key: `clipwiseGhostGramChunks_${tile}_${shape.bk}_${shape.kg}_v${+vec}`,
    code: () => gramChunksWgsl(vec, shape, tile),
    buffers: [{ tensor: scratch, write: true }, { tensor: layer.a }, { tensor: layer.g }],
    uniforms: packUniforms([t, d, p, blocks, pairs, split.chunksA, chunks, split.lenA, split.lenG, 0, 0, 0].map((v) => ['u', v] as const)),
    workgroups: [pairs * chunks, b, 1],
  });
  const width = out.shape[1]!;
  dispatchDirect({
    key: `clipwiseGhostGramProducts_${tile}_v${+vec}`,
    code: () => gramProductsWgsl(vec, tile),
    buffers: [{ tensor: out, write: true }, { tensor: scratch }, { tensor: layer.g }],
    uniforms: packUniforms([width, t, d, p, blocks, pairs, start, split.chunksA, chunks, 0, 0, 0].map((v) => ['u', v] as const)),
    workgroups: [ghostLayerWidth(t, p, layer.bias), b, 1],
  });
  backend.disposeData(scratch.dataId);
}

/** First launch: workgroup (pair · chunks + c, b) writes its Gram tile of A (c < chunksA) or G over chunk c's K. */
function gramChunksWgsl(vec: boolean, s: GhostKernelShape, rows: number): string {
  const r = rows / 8;
  const elem = vec ? 'vec4<f32>' : 'f32';
  const store = range(r).flatMap((i) => range(r).map((j) => `scratch[o + (ty + ${8 * i}u) * ${rows}u + tx + ${8 * j}u] = a${i}${j};`));
  return /* wgsl */ `
struct U { T : u32, d : u32, p : u32, blocks : u32, pairs : u32, chunksA : u32, chunks : u32, lenA : u32, lenG : u32, pad0 : u32, pad1 : u32, pad2 : u32 };
@group(0) @binding(0) var<storage, read_write> scratch : array<f32>;
@group(0) @binding(1) var<storage, read> A : array<${elem}>;
@group(0) @binding(2) var<storage, read> G : array<${elem}>;
@group(0) @binding(3) var<uniform> L : U;

var<workgroup> sm : array<vec4<f32>, ${smVec4s(s, rows)}>;
struct Staged { ${Array.from({ length: loadsOf(s, rows) }, (_, j) => `v${j} : vec4<f32>`).join(', ')} };

${loadFunction('A', vec, s, rows, true)}
${loadFunction('G', vec, s, rows, true)}
${storeStaged(s, rows)}

${gramMainHead(s, rows)}
  let pair = wg.x / L.chunks;
  let c = wg.x % L.chunks;
  ${PAIR_DECODE}
  let rowI = bi * ${rows}u;
  let rowJ = bj * ${rows}u;
  ${ACC('a', r).map((v) => `var ${v} = 0.0;`).join(' ')}
  // workgroup-uniform (c comes from the workgroup's id): the barriers stay in uniform control flow
  if (c < L.chunksA) {
    let baseA = b * L.T * L.d;
    let kStart = c * L.lenA;
    let kEnd = min(L.d, kStart + L.lenA);
    ${gramLoop('A', 'baseA', 'L.d', 'a', true, s, rows, { start: 'kStart', end: 'kEnd' })}
  } else {
    let baseG = b * L.T * L.p;
    let kStart = (c - L.chunksA) * L.lenG;
    let kEnd = min(L.p, kStart + L.lenG);
    ${gramLoop('G', 'baseG', 'L.p', 'a', true, s, rows, { start: 'kStart', end: 'kEnd' })}
  }
  if (grp == 0u) {
    let o = (b * L.pairs * L.chunks + wg.x) * ${rows * rows}u;
    ${store.join('\n    ')}
  }
}
`;
}

/** Second launch: workgroup (pair, b) sums each Gram's chunks and reduces their product; later workgroups the bias's chunks. */
function gramProductsWgsl(vec: boolean, rows: number): string {
  const area = rows * rows;
  const elem = vec ? 'vec4<f32>' : 'f32';
  return /* wgsl */ `
struct U { width : u32, T : u32, d : u32, p : u32, blocks : u32, pairs : u32, start : u32, chunksA : u32, chunks : u32, pad0 : u32, pad1 : u32, pad2 : u32 };
@group(0) @binding(0) var<storage, read_write> partials : array<f32>;
@group(0) @binding(1) var<storage, read> S : array<f32>;
@group(0) @binding(2) var<storage, read> G : array<${elem}>;
@group(0) @binding(3) var<uniform> L : U;

var<workgroup> redBias : array<f32, 256>;

${biasLoadWgsl(vec)}
${biasChunkWgsl(256)}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_index) lid : u32) {
  let b = wg.y;
  let pair = wg.x;
  if (pair >= L.pairs) {
    biasChunk(pair - L.pairs, b, lid);
    return;
  }
  ${PAIR_DECODE}
  let base = (b * L.pairs + pair) * L.chunks * ${area}u;
  var acc = 0.0;
  for (var e = lid; e < ${area}u; e = e + 256u) {
    var sa = 0.0;
    for (var c = 0u; c < L.chunksA; c = c + 1u) { sa = sa + S[base + c * ${area}u + e]; }
    var sg = 0.0;
    for (var c = L.chunksA; c < L.chunks; c = c + 1u) { sg = sg + S[base + c * ${area}u + e]; }
    acc = acc + sa * sg;
  }
  // off-diagonal tiles stand for their mirror image too
  redBias[lid] = select(2.0, 1.0, bi == bj) * acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { redBias[lid] = redBias[lid] + redBias[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[b * L.width + L.start + pair] = redBias[0]; }
}
`;
}
