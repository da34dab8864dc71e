import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';
import type { RowSpec } from '../webgpu/row-program';
import { registerWebgpuKernel, type WebGpuBackendLike } from '../webgpu/webgpu-program';
import { fusedOnDevice, runRowProgram } from './fused-kernels';
import { perSampleDot } from './per-sample-dot';

const KERNEL = 'ClipwiseGhostSqNorm';
const PARTIALS_KERNEL = 'ClipwiseGhostSqNormPartials';
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

/**
 * Per-sample squared Frobenius norms ‖a_iᵀ g_i‖² = Σ_{t,s} ⟨a_it, a_is⟩⟨g_it, g_is⟩ ([B]) for
 * a [B, T, d] and g [B, T, p]: the ghost norm of a linear layer's per-sample weight gradient (Li et
 * al. 2022) without forming the per-sample gradients. On webgpu one kernel forms matching tiles of
 * both Gram matrices in registers and multiplies them there (neither B×T×T Gram is written), over the
 * upper triangle only (both Grams are symmetric: half the products), then a per-sample sum of the
 * tiles' partial sums: two launches where two matmuls and a row reduction were three, at half the
 * FLOPs. Elsewhere the two Grams and `perSampleDot`.
 *
 * @example
 * const sq = ghostSqNorm(a, dy); // [B]: ‖∂ℓ_i/∂W‖² of y = a W
 */
export function ghostSqNorm(a: tf.Tensor3D, g: tf.Tensor3D): tf.Tensor1D {
  const [b, t, d] = a.shape;
  if (a.rank !== 3 || g.rank !== 3 || g.shape[0] !== b || g.shape[1] !== t) {
    throw new Error(`ghostSqNorm: a [${a.shape}] and g [${g.shape}] must be [B, T, d] and [B, T, p] with the same B and T`);
  }
  if (fusedPath(a, g)) return tf.engine().runKernel(KERNEL, { a, g }, {}) as tf.Tensor1D;
  return tf.tidy(() => perSampleDot(tf.matMul(a, a, false, true), tf.matMul(g, g, false, true)));
}

/**
 * `ghostSqNorm` before its last launch: the fused kernel's per-tile partial sums [B, P], whose row sums
 * are the squared norms, for a consumer that sums terms per sample anyway (a group's clip factors:
 * `sampleTermsClipFactors` takes them as a 'sum' term, one launch fewer a linear layer). With `bias`,
 * more workgroups of the same launch append the squared norm of the layer's per-sample bias gradient
 * ‖Σ_t g_it‖² in column chunks ([B, P + ⌈p/256⌉]): the row sums are then weight's plus bias's, for a
 * weight and bias clipped in one group, with no launch for the bias. Null where the fused kernel does
 * not run (off webgpu, K past its limit): use `ghostSqNorm` there.
 *
 * @example
 * const partials = ghostSqNormPartials(a, dy); // [B, P], or null
 * const both = ghostSqNormPartials(a, dy, { bias: true }); // rows sum to ‖∂ℓ_i/∂W‖² + ‖∂ℓ_i/∂b‖²
 */
export function ghostSqNormPartials(a: tf.Tensor3D, g: tf.Tensor3D, options: { bias?: boolean } = {}): tf.Tensor2D | null {
  if (a.rank !== 3 || g.rank !== 3 || g.shape[0] !== a.shape[0] || g.shape[1] !== a.shape[1]) {
    throw new Error(`ghostSqNormPartials: a [${a.shape}] and g [${g.shape}] must be [B, T, d] and [B, T, p] with the same B and T`);
  }
  return fusedPath(a, g) ? (tf.engine().runKernel(PARTIALS_KERNEL, { a, g }, { bias: options.bias === true }) as tf.Tensor2D) : null;
}

function fusedPath(a: tf.Tensor3D, g: tf.Tensor3D): boolean {
  const [b, t, d] = a.shape;
  return fusedGhost && fusedOnDevice() && a.dtype === 'float32' && g.dtype === 'float32' && b > 0 && t > 0 && Math.max(d, g.shape[2]) <= MAX_FUSED_K;
}

/**
 * Longest K (d or p) the fused kernel takes: it cannot split K across workgroups, so a vocabulary-sized
 * output gradient (GPT-2's LM head, p = 50257) keeps the two Grams, whose matmuls split K.
 */
const MAX_FUSED_K = 4096;
let fusedGhost = true;

/** Turns the fused ghost-norm kernel off (the two Gram matmuls and a row reduction instead) or on: for before/after benchmarks and tests. */
export function setFusedGhostNorm(on: boolean): void {
  fusedGhost = on;
}


/** Upper-triangle tile pairs (I ≤ J) of `blocks` row blocks. */
function ghostTilePairs(t: number): { blocks: number; pairs: number } {
  const blocks = Math.ceil(t / TILE);
  return { blocks, pairs: (blocks * (blocks + 1)) / 2 };
}

const SUM_ROW: RowSpec = {
  key: 'ghostPartialSum',
  inputs: [{ name: 'X', kind: 'row' }],
  phases: [[{ name: 's', expr: 'f32(x)', op: 'sum' }]],
  out: 's',
  perRow: true,
};

type GhostBackend = WebGpuBackendLike & { makeTensorInfo(s: number[], dt: tf.DataType): tf.TensorInfo; disposeData(id: unknown): void };

/** Columns of g a bias workgroup sums (one per thread). */
const BIAS_CHUNK = 8 * 8 * KG;

/** The fused kernel's launch: per-tile partials [B, P] (and with `bias` the bias's chunks after them). */
function dispatchPartials(be: GhostBackend, a: tf.TensorInfo, g: tf.TensorInfo, bias = false): tf.TensorInfo {
  const [b, t, d] = a.shape as [number, number, number];
  const p = g.shape[2]!;
  const { blocks, pairs } = ghostTilePairs(t);
  const width = pairs + (bias ? Math.ceil(p / BIAS_CHUNK) : 0);
  const partials = be.makeTensorInfo([b, width], 'float32');
  dispatchDirect({
    key: `clipwiseGhostSqNorm_${TILE}_${BK}_${KG}`,
    code: ghostSqNormWgsl,
    buffers: [{ tensor: partials, write: true }, { tensor: a }, { tensor: g }],
    uniforms: packUniforms([t, d, p, blocks, pairs, width].map((v) => ['u', v] as const)),
    workgroups: [width, b, 1],
  });
  return partials;
}

registerWebgpuKernel(KERNEL, ({ inputs, backend }) => {
  const { a, g } = inputs as Record<string, tf.TensorInfo>;
  const be = backend as unknown as GhostBackend;
  const partials = dispatchPartials(be, a!, g!);
  const [b, pairs] = partials.shape as [number, number];
  const out = runRowProgram(be, SUM_ROW, [partials], b, pairs);
  be.disposeData(partials.dataId);
  return out;
});

registerWebgpuKernel(PARTIALS_KERNEL, ({ inputs, backend, attrs }) => {
  const { a, g } = inputs as Record<string, tf.TensorInfo>;
  return dispatchPartials(backend as unknown as GhostBackend, a!, g!, attrs['bias'] === true);
});

/** Stages rows [r0, r0 + TILE) × this group's k slice of X ([T, K] at `base`) into tile `which` (0: I, 1: J) as [k][row / 4] vec4s. */
function stage(x: 'A' | 'G', which: 0 | 1, r0: string, k: 'u.d' | 'u.p'): string {
  const lines: string[] = [];
  for (let j = 0; j < (TILE * BK) / 64; j++) {
    lines.push(`{ let q = lid + ${j * 64}u; let row = q / ${BK}u; let kk = q % ${BK}u; let gr = ${r0} + row; let gk = kg + kk;
      let v = select(0.0, ${x}[min(base${x} + gr * ${k} + gk, arrayLength(&${x}) - 1u)], gr < u.T && gk < ${k});
      sm[stageBase + ${which * TILE_VEC4}u + kk * ${TILE / 4}u + row / 4u][row % 4u] = v; }`);
  }
  return lines.join('\n      ');
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
function gramLoop(x: 'A' | 'G', k: 'u.d' | 'u.p', acc: string): string {
  return `
  for (var k0 = 0u; k0 < ${k}; k0 = k0 + ${KG * BK}u) {
      let kg = k0 + grp * ${BK}u;
      ${stage(x, 0, 'rowI', k)}
      ${stage(x, 1, 'rowJ', k)}
      workgroupBarrier();
      ${multiply(acc)}
      workgroupBarrier();
  }
  ${reduceGroups(acc)}`;
}

function ghostSqNormWgsl(): string {
  return /* wgsl */ `
struct U { T : u32, d : u32, p : u32, blocks : u32, pairs : u32, width : u32 };
@group(0) @binding(0) var<storage, read_write> partials : array<f32>;
@group(0) @binding(1) var<storage, read> A : array<f32>;
@group(0) @binding(2) var<storage, read> G : array<f32>;
@group(0) @binding(3) var<uniform> u : U;

// staging (KG groups × 2 tiles) and, after each Gram, the K groups' reduction (up to KG/2 × 64 × 4 vec4s)
var<workgroup> sm : array<vec4<f32>, ${Math.max(KG * 2 * TILE_VEC4, (KG / 2) * 64 * 4)}>;
var<workgroup> red : array<f32, 64>;
var<workgroup> redBias : array<f32, ${BIAS_CHUNK}>;

/** A bias workgroup: Σ over its chunk of columns j of (Σ_t G[b, t, j])², each thread a column (4 rows a step in flight). */
fn biasChunk(chunk : u32, b : u32, lid : u32) {
  let j = chunk * ${BIAS_CHUNK}u + lid;
  var c0 = 0.0; var c1 = 0.0; var c2 = 0.0; var c3 = 0.0;
  if (j < u.p) {
    let base = b * u.T * u.p + j;
    var t = 0u;
    loop {
      if (t + 4u > u.T) { break; }
      let e = base + t * u.p;
      c0 = c0 + G[e]; c1 = c1 + G[e + u.p]; c2 = c2 + G[e + 2u * u.p]; c3 = c3 + G[e + 3u * u.p];
      t = t + 4u;
    }
    for (; t < u.T; t = t + 1u) { c0 = c0 + G[base + t * u.p]; }
  }
  let c = (c0 + c1) + (c2 + c3);
  redBias[lid] = c * c;
  workgroupBarrier();
  for (var s = ${BIAS_CHUNK / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { redBias[lid] = redBias[lid] + redBias[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[b * u.width + u.pairs + chunk] = redBias[0]; }
}

@compute @workgroup_size(8, 8, ${KG})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let tx = l.x;
  let ty = l.y;
  let grp = l.z;
  let lid = ty * 8u + tx;
  let stageBase = grp * ${2 * TILE_VEC4}u;
  let pair = wg.x;
  let b = wg.y;
  // workgroups past the tile pairs sum the bias's columns (workgroup-uniform: the barriers stay uniform)
  if (pair >= u.pairs) {
    biasChunk(pair - u.pairs, b, grp * 64u + lid);
    return;
  }
  // pair -> (I, J), I <= J, row by row of the upper triangle
  var bi = 0u;
  var r = pair;
  loop {
    let len = u.blocks - bi;
    if (r < len) { break; }
    r = r - len;
    bi = bi + 1u;
  }
  let bj = bi + r;
  let rowI = bi * ${TILE}u;
  let rowJ = bj * ${TILE}u;
  let baseA = b * u.T * u.d;
  let baseG = b * u.T * u.p;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var g0 = vec4<f32>(0.0); var g1 = vec4<f32>(0.0); var g2 = vec4<f32>(0.0); var g3 = vec4<f32>(0.0);
  ${gramLoop('A', 'u.d', 'a')}
  ${gramLoop('G', 'u.p', 'g')}
  // off-diagonal tiles stand for their mirror image too
  let w = select(2.0, 1.0, bi == bj);
  if (grp == 0u) { red[lid] = w * (dot(a0, g0) + dot(a1, g1) + dot(a2, g2) + dot(a3, g3)); }
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (grp == 0u && lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  if (grp == 0u && lid == 0u) { partials[b * u.width + pair] = red[0]; }
}
`;
}
