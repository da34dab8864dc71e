import type * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';

/** Rows of a Gram tile (each workgroup one TILE×TILE block of both Grams). */
const TILE = 32;
/** K staged per step by each K group. */
const BK = 8;
/**
 * K groups per workgroup: 8×8 threads each, every group summing its own K slices of the same tile,
 * added up before the Grams are multiplied (a Gram is complete before the product, so K cannot be
 * split across workgroups; within one it can). 256 threads keep the multiprocessors busy when B × tile
 * pairs is small (GPT-2 B16 T128: 160 workgroups).
 */
const KG = 4;
/** vec4s of one staged tile (BK × TILE floats). */
const TILE_VEC4 = (BK * TILE) / 4;
/** Columns of g a bias workgroup sums (one per thread). */
const BIAS_CHUNK = 8 * 8 * KG;

/** One layer of a ghost partials launch: a [B, T, d], g [B, T, p], and whether its bias's chunks follow its tiles. */
export interface GhostLayer {
  readonly a: tf.TensorInfo;
  readonly g: tf.TensorInfo;
  readonly bias: boolean;
}

/** Upper-triangle tile pairs (I ≤ J) of `blocks` row blocks. */
export function ghostTilePairs(t: number): { blocks: number; pairs: number } {
  const blocks = Math.ceil(t / TILE);
  return { blocks, pairs: (blocks * (blocks + 1)) / 2 };
}

/** Columns a layer takes in the partials (its tile pairs, then its bias's chunks): also its workgroups per sample. */
export function ghostLayerWidth(t: number, p: number, bias: boolean): number {
  return ghostTilePairs(t).pairs + (bias ? Math.ceil(p / BIAS_CHUNK) : 0);
}

/**
 * One launch of the ghost partials kernel over `layers` (all of one B), writing each layer's columns of
 * `out` [B, width] from column `start` on, side by side: the workgroups are the concatenation of each
 * layer's (its width × B) grid, and a workgroup finds its layer from the layers' first columns. With
 * `slots` above the layer count, the last layer is bound again in the spare slots, with no columns: the
 * launches of one call then share one pipeline (lavapipe compiles one of 7 layers in about 6 s).
 */
export function dispatchGhostLayers(out: tf.TensorInfo, layers: readonly GhostLayer[], start: number, slots = layers.length): void {
  const [b, width] = out.shape as [number, number];
  const fields: (readonly ['u', number])[] = [['u', width], ['u', 0], ['u', 0], ['u', 0]];
  let col = start;
  for (const { a, g, bias } of layers) {
    const [, t, d] = a.shape as [number, number, number];
    const p = g.shape[2]!;
    const { blocks, pairs } = ghostTilePairs(t);
    // eight u32s a layer (two vec4s: a uniform array's stride is a multiple of 16 bytes)
    fields.push(...[t, d, p, blocks, pairs, col, 0, 0].map((v) => ['u', v] as const));
    col += ghostLayerWidth(t, p, bias);
  }
  // a spare slot starts past the last column: no workgroup finds it
  for (let k = layers.length; k < slots; k++) fields.push(...[0, 0, 0, 0, 0, col, 0, 0].map((v) => ['u', v] as const));
  const bound = Array.from({ length: slots }, (_, k) => layers[Math.min(k, layers.length - 1)]!);
  dispatchDirect({
    key: `clipwiseGhostSqNorm_${TILE}_${BK}_${KG}_x${slots}`,
    code: () => ghostSqNormWgsl(slots),
    buffers: [{ tensor: out, write: true }, ...bound.flatMap(({ a, g }) => [{ tensor: a }, { tensor: g }])],
    uniforms: packUniforms(fields),
    workgroups: [col - start, b, 1],
  });
}

/**
 * `stageA(n, …)`, `stageG(n, …)`: stage rows [rowI, rowI + TILE) and [rowJ, rowJ + TILE) × this group's
 * k slice of layer n's X ([T, K] at `base`) into tiles I and J as [k][row / 4] vec4s. WGSL cannot index
 * bindings, so each layer has its own copy, reached by a switch on n (workgroup-uniform) once a K step.
 * Only the staging is copied: a copy of the whole tile code per layer made lavapipe's compile time
 * explode (4 layers, 30 s), and a switch per element load halved its speed.
 */
function stageFunctions(x: 'A' | 'G', count: number): string {
  const copies = Array.from({ length: count }, (_, n) => {
    const lines: string[] = [];
    for (const [which, r0] of [[0, 'rowI'], [1, 'rowJ']] as const) {
      for (let j = 0; j < (TILE * BK) / 64; j++) {
        lines.push(`{ let q = lid + ${j * 64}u; let row = q / ${BK}u; let kk = q % ${BK}u; let gr = ${r0} + row; let gk = kg + kk;
    let v = select(0.0, ${x}${n}[min(base + gr * K + gk, arrayLength(&${x}${n}) - 1u)], gr < T && gk < K);
    sm[stageBase + ${which * TILE_VEC4}u + kk * ${TILE / 4}u + row / 4u][row % 4u] = v; }`);
      }
    }
    return `fn stage${x}${n}(base : u32, rowI : u32, rowJ : u32, K : u32, T : u32, kg : u32, lid : u32, stageBase : u32) {
  ${lines.join('\n  ')}
}`;
  });
  const args = 'base, rowI, rowJ, K, T, kg, lid, stageBase';
  const body = count === 1 ? `stage${x}0(${args});` : `switch n {\n    ${copies.map((_, n) => `case ${n}u: { stage${x}${n}(${args}); }`).join('\n    ')}\n    default: {}\n  }`;
  return `${copies.join('\n')}
fn stage${x}(n : u32, base : u32, rowI : u32, rowJ : u32, K : u32, T : u32, kg : u32, lid : u32, stageBase : u32) {
  ${body}
}`;
}

/** acc_i[j] += Σ_k X[I-row ty·4+i, k] · X[J-row tx·4+j, k] over the group's staged slice. */
function multiply(acc: string): string {
  const lines: string[] = [];
  for (let kk = 0; kk < BK; kk++) {
    lines.push(`{ let x = sm[stageBase + ${kk * (TILE / 4)}u + ty]; let y = sm[stageBase + ${TILE_VEC4 + kk * (TILE / 4)}u + tx];`);
    for (let i = 0; i < 4; i++) lines.push(`  ${acc}${i} = fma(vec4<f32>(x[${i}]), y, ${acc}${i});`);
    lines.push('}');
  }
  return lines.join('\n      ');
}

/** Adds the K groups' partial tiles into group 0's registers acc0..3 (through workgroup memory, half the groups a round). */
function reduceGroups(acc: string): string {
  const rounds: string[] = [];
  for (let half = KG / 2; half >= 1; half /= 2) {
    rounds.push(`workgroupBarrier();
  if (grp >= ${half}u && grp < ${2 * half}u) { let o = ((grp - ${half}u) * 64u + lid) * 4u; ${[0, 1, 2, 3].map((i) => `sm[o + ${i}u] = ${acc}${i};`).join(' ')} }
  workgroupBarrier();
  if (grp < ${half}u) { let o = (grp * 64u + lid) * 4u; ${[0, 1, 2, 3].map((i) => `${acc}${i} = ${acc}${i} + sm[o + ${i}u];`).join(' ')} }`);
  }
  // the next Gram's staging reuses this memory
  return `${rounds.join('\n  ')}
  workgroupBarrier();`;
}

/** The Gram tile of X (A or G) over its K, summed over the K groups into group 0's acc0..3. */
function gramLoop(x: 'A' | 'G', base: string, k: 'L.d' | 'L.p', acc: string): string {
  return `
  for (var k0 = 0u; k0 < ${k}; k0 = k0 + ${KG * BK}u) {
      let kg = k0 + grp * ${BK}u;
      stage${x}(n, ${base}, rowI, rowJ, ${k}, L.T, kg, lid, stageBase);
      workgroupBarrier();
      ${multiply(acc)}
      workgroupBarrier();
  }
  ${reduceGroups(acc)}`;
}

/** `loadG(n, i)`: element i of layer n's g, for the bias workgroups (few: a switch on n per load costs little there). */
function biasLoader(count: number): string {
  const read = (n: number) => `G${n}[min(i, arrayLength(&G${n}) - 1u)]`;
  if (count === 1) return `fn loadG(n : u32, i : u32) -> f32 { return ${read(0)}; }`;
  return `fn loadG(n : u32, i : u32) -> f32 {
  var v = 0.0;
  switch n {
    ${Array.from({ length: count }, (_, n) => `case ${n}u: { v = ${read(n)}; }`).join('\n    ')}
    default: {}
  }
  return v;
}`;
}

/** The ghost partials kernel over `count` layers (bindings: partials, then a and g of each layer, then the uniforms). */
function ghostSqNormWgsl(count: number): string {
  const layers = Array.from({ length: count }, (_, n) => n);
  return /* wgsl */ `
struct Layer { T : u32, d : u32, p : u32, blocks : u32, pairs : u32, start : u32, pad0 : u32, pad1 : u32 };
struct U { width : u32, pad0 : u32, pad1 : u32, pad2 : u32, layers : array<Layer, ${count}> };
@group(0) @binding(0) var<storage, read_write> partials : array<f32>;
${layers.map((n) => `@group(0) @binding(${1 + 2 * n}) var<storage, read> A${n} : array<f32>;\n@group(0) @binding(${2 + 2 * n}) var<storage, read> G${n} : array<f32>;`).join('\n')}
@group(0) @binding(${1 + 2 * count}) var<uniform> u : U;

// staging (KG groups × 2 tiles) and, after each Gram, the K groups' reduction (up to KG/2 × 64 × 4 vec4s)
var<workgroup> sm : array<vec4<f32>, ${Math.max(KG * 2 * TILE_VEC4, (KG / 2) * 64 * 4)}>;
var<workgroup> red : array<f32, 64>;
var<workgroup> redBias : array<f32, ${BIAS_CHUNK}>;

${biasLoader(count)}
${stageFunctions('A', count)}
${stageFunctions('G', count)}

/** A bias workgroup: Σ over its chunk of columns j of (Σ_t G[b, t, j])², each thread a column (4 rows a step in flight). */
fn biasChunk(n : u32, L : Layer, chunk : u32, b : u32, lid : u32) {
  let j = chunk * ${BIAS_CHUNK}u + lid;
  var c0 = 0.0; var c1 = 0.0; var c2 = 0.0; var c3 = 0.0;
  if (j < L.p) {
    let base = b * L.T * L.p + j;
    var t = 0u;
    loop {
      if (t + 4u > L.T) { break; }
      let e = base + t * L.p;
      c0 = c0 + loadG(n, e); c1 = c1 + loadG(n, e + L.p); c2 = c2 + loadG(n, e + 2u * L.p); c3 = c3 + loadG(n, e + 3u * L.p);
      t = t + 4u;
    }
    for (; t < L.T; t = t + 1u) { c0 = c0 + loadG(n, base + t * L.p); }
  }
  let c = (c0 + c1) + (c2 + c3);
  redBias[lid] = c * c;
  workgroupBarrier();
  for (var s = ${BIAS_CHUNK / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { redBias[lid] = redBias[lid] + redBias[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[b * u.width + L.start + L.pairs + chunk] = redBias[0]; }
}

@compute @workgroup_size(8, 8, ${KG})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let tx = l.x;
  let ty = l.y;
  let grp = l.z;
  let lid = ty * 8u + tx;
  let stageBase = grp * ${2 * TILE_VEC4}u;
  let b = wg.y;
  // this workgroup's layer: the last whose first column is at or before it (workgroup-uniform, as is
  // every branch on it below: the barriers stay in uniform control flow)
  let col = wg.x + u.layers[0].start;
  var n = 0u;
  for (var k = 1u; k < ${count}u; k = k + 1u) {
    if (col >= u.layers[k].start) { n = k; }
  }
  let L = u.layers[n];
  let pair = col - L.start;
  // workgroups past a layer's tile pairs sum its bias's columns
  if (pair >= L.pairs) {
    biasChunk(n, L, pair - L.pairs, b, grp * 64u + lid);
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
  let rowI = bi * ${TILE}u;
  let rowJ = bj * ${TILE}u;
  let baseA = b * L.T * L.d;
  let baseG = b * L.T * L.p;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var g0 = vec4<f32>(0.0); var g1 = vec4<f32>(0.0); var g2 = vec4<f32>(0.0); var g3 = vec4<f32>(0.0);
  ${gramLoop('A', 'baseA', 'L.d', 'a')}
  ${gramLoop('G', 'baseG', 'L.p', 'g')}
  // off-diagonal tiles stand for their mirror image too
  let w = select(2.0, 1.0, bi == bj);
  if (grp == 0u) { red[lid] = w * (dot(a0, g0) + dot(a1, g1) + dot(a2, g2) + dot(a3, g3)); }
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (grp == 0u && lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  if (grp == 0u && lid == 0u) { partials[b * u.width + L.start + pair] = red[0]; }
}
`;
}
