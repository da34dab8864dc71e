import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms, storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';
import { clipFactorWgsl, parallelClipFactorsEnabled } from '../webgpu/clip-factor-wgsl';
import { sampleTermsClipFactors, weightedRowSums, type ClipEpilogue } from './row-reductions';

const KERNEL = 'ClipwiseClippedRowSums';
const WG = 256;
/** Samples the kernel's workgroup memory holds factors for (per group). */
const MAX_SAMPLES = 1024;
/** Groups one launch clips (a layer norm's γ and β, each its own group under param-wise clipping). */
const MAX_GROUPS = 2;
/** Per-sample gradients one launch takes. */
const MAX_ROWS = 4; // the uniform block's widths are one vec4

/** `clippedRowSums`'s result: per row tensor its clipped sum [n_k]; per group its norms and factors [B]. */
export interface ClippedRowSums {
  readonly sums: tf.Tensor1D[];
  readonly norms: tf.Tensor1D[];
  readonly factors: tf.Tensor1D[];
}

/**
 * Clips small parameters' per-sample gradients and sums them, the clip factors formed in the same
 * launch: rows[k] [B, n_k] belongs to group groupOf[k]; group g's per-sample norm is
 * n_gi = sqrt(Σ_{k in g} ‖rows[k][i, :]‖²), its factor c_gi = C_g / max(n_gi, C_g) (Abadi et al. 2016)
 * or C_g / (n_gi + γ) (automatic, Bu et al. 2023), and sums[k] = Σ_i c_{g(k)i} rows[k][i, :]
 * (Book-Keeping's clipped sum). A layer norm's γ and β at their group's close: one launch where the
 * norms' launch (two on a small batch) and the sums' were apart. On webgpu every workgroup forms all
 * factors from the rows (B·Σn_k reads, small for these parameters) and then its columns' sums; up to 4
 * row tensors, 2 groups and 1024 samples a launch. Elsewhere `sampleTermsClipFactors` and `weightedRowSums`. All results
 * are new tensors.
 *
 * @example
 * const [gGamma, gBeta] = columnSumPair(dy, xhat, { perSample: true }).reverse() as tf.Tensor2D[];
 * // layer-wise: γ and β one group
 * const { sums: [dGamma, dBeta], norms: [n] } = clippedRowSums([gGamma, gBeta], [0, 0], [{ threshold: 1, automatic: false, gamma: 0 }]);
 * // param-wise: each its own group and threshold
 * const apart = clippedRowSums([gGamma, gBeta], [0, 1], [clipGamma, clipBeta]);
 */
export function clippedRowSums(rows: readonly tf.Tensor2D[], groupOf: readonly number[], clips: readonly ClipEpilogue[]): ClippedRowSums {
  if (rows.length === 0) throw new RangeError('clippedRowSums: no rows; pass at least one [B, n] tensor');
  if (groupOf.length !== rows.length) throw new RangeError(`clippedRowSums: groupOf has ${groupOf.length} entries for ${rows.length} row tensors`);
  const b = rows[0]!.shape[0];
  for (const r of rows) if (r.rank !== 2 || r.shape[0] !== b) throw new RangeError(`clippedRowSums: every row tensor must be [B, n] with B = ${b}, got [${r.shape}]`);
  for (const g of groupOf) if (!(Number.isInteger(g) && g >= 0 && g < clips.length)) throw new RangeError(`clippedRowSums: group ${g} has no clip (${clips.length} given)`);
  for (let g = 0; g < clips.length; g++) if (!groupOf.includes(g)) throw new RangeError(`clippedRowSums: group ${g} has no rows`);
  const automatic = clips[0]!.automatic;
  if (clips.some((c) => c.automatic !== automatic)) throw new RangeError('clippedRowSums: every group must use the same clipping function (Abadi or automatic)');
  const device =
    fusedOnDevice() && b > 0 && b <= MAX_SAMPLES && rows.length <= MAX_ROWS && clips.length <= MAX_GROUPS &&
    rows.every((r) => r.dtype === 'float32' && r.shape[1] > 0) && storageBindingsPerDispatch() >= 2 * rows.length + 2 * clips.length;
  if (!device) return inOps(rows, groupOf, clips);
  const inputs = Object.fromEntries(rows.map((r, k) => [`r${k}`, r]));
  const attrs = { groupOf: groupOf.join(','), thresholds: clips.map((c) => c.threshold), gamma: clips.map((c) => c.gamma), automatic };
  const outs = tf.engine().runKernel(KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor1D[];
  const k = rows.length;
  const g = clips.length;
  return { sums: outs.slice(0, k), norms: outs.slice(k, k + g), factors: outs.slice(k + g) };
}

/** Elsewhere (and past the launch's limits): each group's norms and factors from its rows' squared norms, then the weighted row sums. */
function inOps(rows: readonly tf.Tensor2D[], groupOf: readonly number[], clips: readonly ClipEpilogue[]): ClippedRowSums {
  const clipped = clips.map((clip, g) => sampleTermsClipFactors(rows.filter((_, k) => groupOf[k] === g).map((tensor) => ({ kind: 'sq' as const, tensor })), clip));
  const sums = rows.map((r, k) => weightedRowSums(clipped[groupOf[k]!]!.factors, [r])[0]!);
  return { sums, norms: clipped.map((c) => c.norms), factors: clipped.map((c) => c.factors) };
}

type Backend = { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const groupOf = (attrs['groupOf'] as string).split(',').map(Number);
  const thresholds = attrs['thresholds'] as number[];
  const gamma = attrs['gamma'] as number[];
  const rows = groupOf.map((_, k) => inputs[`r${k}`]!);
  const b = rows[0]!.shape[0]!;
  const widths = rows.map((r) => r.shape[1]!);
  const be = backend as unknown as Backend;
  const sums = rows.map((r) => be.makeTensorInfo([r.shape[1]!], 'float32'));
  const norms = thresholds.map(() => be.makeTensorInfo([b], 'float32'));
  const factors = thresholds.map(() => be.makeTensorInfo([b], 'float32'));
  const u: ['f' | 'u', number][] = [['u', b], ['u', 0], ['u', 0], ['u', 0]];
  for (let g = 0; g < MAX_GROUPS; g++) u.push(['f', thresholds[g] ?? 0], ['f', gamma[g] ?? 0]);
  for (let k = 0; k < MAX_ROWS; k++) u.push(['u', widths[k] ?? 0]);
  const parallel = parallelClipFactorsEnabled();
  dispatchDirect({
    key: `${KERNEL}_${groupOf.join('')}_${thresholds.length}_${attrs['automatic'] ? 'auto' : 'abadi'}_${parallel ? 'p' : 's'}`,
    code: () => clippedRowSumsWgsl(groupOf, thresholds.length, attrs['automatic'] === true, parallel),
    buffers: [...rows.map((tensor) => ({ tensor })), ...[...sums, ...norms, ...factors].map((tensor) => ({ tensor, write: true }))],
    uniforms: packUniforms(u),
    workgroups: [Math.ceil(Math.max(...widths) / WG), 1, 1],
  });
  return [...sums, ...norms, ...factors] as unknown as tf.TensorInfo;
});

/**
 * Phase 1, every workgroup: each sample's squared norm per group by L threads together (L the largest
 * power of two with B·L ≤ 256, at least 1; passes of 256 / L samples), each summing every L-th column
 * of the sample's rows with eight loads in flight, then a tree sum in workgroup memory; the segment's
 * first thread forms the norm and factor, kept in workgroup memory; workgroup 0 writes the norms and
 * factors. Before, a thread a sample walked its whole rows (1,536 reads for a GPT-2 layer norm's γ
 * and β) while the other 240 threads waited: about 40 µs a launch on an H200
 * (`setParallelClipFactors(false)` keeps that path, the before of a before/after).
 * Phase 2: thread j of workgroup w sums column w·256 + j of every row tensor, weighted by its group's
 * factors (coalesced reads across threads, four in flight).
 */
function clippedRowSumsWgsl(groupOf: readonly number[], groups: number, automatic: boolean, parallel: boolean): string {
  const k = groupOf.length;
  const bind = (i: number, name: string, access: string) => `@group(0) @binding(${i}) var<storage, ${access}> ${name} : array<f32>;`;
  const bindings = [
    ...groupOf.map((_, r) => bind(r, `r${r}`, 'read')),
    ...groupOf.map((_, r) => bind(k + r, `o${r}`, 'read_write')),
    ...Array.from({ length: groups }, (_, g) => bind(2 * k + g, `n${g}`, 'read_write')),
    ...Array.from({ length: groups }, (_, g) => bind(2 * k + groups + g, `f${g}`, 'read_write')),
  ];
  const width = (r: number) => `u.w[${r}]`;
  const factorOf = (g: number) => `let c = ${clipFactorWgsl(automatic, 'norm', `u.t${g}`, `u.g${g}`)};
      fac[${g}u * ${MAX_SAMPLES}u + i] = c;
      if (wg.x == 0u) { n${g}[i] = norm; f${g}[i] = c; }`;
  const sums = groupOf
    .map((g, r) => `  if (j < ${width(r)}) {
    let n = ${width(r)};
    let f = ${g}u * ${MAX_SAMPLES}u;
    var s0 = 0.0; var s1 = 0.0; var s2 = 0.0; var s3 = 0.0;
    var i = 0u;
    loop {
      if (i + 4u > u.B) { break; }
      s0 = fma(fac[f + i], r${r}[i * n + j], s0); s1 = fma(fac[f + i + 1u], r${r}[(i + 1u) * n + j], s1);
      s2 = fma(fac[f + i + 2u], r${r}[(i + 2u) * n + j], s2); s3 = fma(fac[f + i + 3u], r${r}[(i + 3u) * n + j], s3);
      i = i + 4u;
    }
    for (; i < u.B; i = i + 1u) { s0 = fma(fac[f + i], r${r}[i * n + j], s0); }
    o${r}[j] = (s0 + s1) + (s2 + s3);
  }`)
    .join('\n');
  return /* wgsl */ `
struct U { B : u32, pad0 : u32, pad1 : u32, pad2 : u32, t0 : f32, g0 : f32, t1 : f32, g1 : f32, w : vec4<u32> };
${bindings.join('\n')}
@group(0) @binding(${2 * k + 2 * groups}) var<uniform> u : U;
var<workgroup> fac : array<f32, ${groups * MAX_SAMPLES}>;
${parallel ? `var<workgroup> red : array<f32, ${groups * WG}>;` : ''}

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let lid = l.x;
${parallel ? parallelNorms(groupOf, groups, factorOf) : serialNorms(groupOf, groups, factorOf)}
  let j = wg.x * ${WG}u + lid;
${sums}
}
`;
}

/** Phase 1 by L threads a sample (`clippedRowSumsWgsl`); ends with the barrier after which every factor is in. */
function parallelNorms(groupOf: readonly number[], groups: number, factorOf: (g: number) => string): string {
  // Σ_j r[i, j]² over this thread's columns lane, lane + L, …: eight loads in flight, then the rest
  const sq = (r: number) => `      { let n = u.w[${r}]; let base = i * n; var j = lane;
        loop {
          if (j + 7u * L >= n) { break; }
          let e = base + j;
          a0 = fma(r${r}[e], r${r}[e], a0); a1 = fma(r${r}[e + L], r${r}[e + L], a1);
          a2 = fma(r${r}[e + 2u * L], r${r}[e + 2u * L], a2); a3 = fma(r${r}[e + 3u * L], r${r}[e + 3u * L], a3);
          a0 = fma(r${r}[e + 4u * L], r${r}[e + 4u * L], a0); a1 = fma(r${r}[e + 5u * L], r${r}[e + 5u * L], a1);
          a2 = fma(r${r}[e + 6u * L], r${r}[e + 6u * L], a2); a3 = fma(r${r}[e + 7u * L], r${r}[e + 7u * L], a3);
          j = j + 8u * L;
        }
        for (; j < n; j = j + L) { let v = r${r}[base + j]; a0 = fma(v, v, a0); } }`;
  const partial = Array.from({ length: groups }, (_, g) => `    {
      var a0 = 0.0; var a1 = 0.0; var a2 = 0.0; var a3 = 0.0;
      if (live) {
${groupOf.flatMap((gr, r) => (gr === g ? [sq(r)] : [])).join('\n')}
      }
      red[${g * WG}u + lid] = (a0 + a1) + (a2 + a3);
    }`).join('\n');
  const tree = Array.from({ length: groups }, (_, g) => `red[${g * WG}u + lid] = red[${g * WG}u + lid] + red[${g * WG}u + lid + s];`).join(' ');
  const close = Array.from({ length: groups }, (_, g) => `      {
      let norm = sqrt(red[${g * WG}u + lid]);
      ${factorOf(g)}
      }`).join('\n');
  // u.B is a uniform: L, the passes and the tree's steps are too (the barriers stay in uniform control flow)
  return `  let lg = select(firstLeadingBit(max(u.B, 2u) - 1u) + 1u, 0u, u.B <= 1u);
  let L = max(1u, ${WG}u >> min(lg, 8u));
  let perPass = ${WG}u / L;
  let lane = lid % L;
  for (var p = 0u; p < (u.B + perPass - 1u) / perPass; p = p + 1u) {
    let i = p * perPass + lid / L;
    let live = i < u.B;
${partial}
    workgroupBarrier();
    for (var s = L / 2u; s > 0u; s = s >> 1u) {
      if (lane < s) { ${tree} }
      workgroupBarrier();
    }
    if (live && lane == 0u) {
${close}
    }
    workgroupBarrier();
  }`;
}

/** Phase 1 by a thread a sample, its rows read in turn (four sums in flight; samples 256 apart): the before. */
function serialNorms(groupOf: readonly number[], groups: number, factorOf: (g: number) => string): string {
  const sq = (r: number) => `    { let n = u.w[${r}]; let base = i * n; var j = 0u;
      loop { if (j + 4u > n) { break; } let e = base + j; a0 = fma(r${r}[e], r${r}[e], a0); a1 = fma(r${r}[e + 1u], r${r}[e + 1u], a1); a2 = fma(r${r}[e + 2u], r${r}[e + 2u], a2); a3 = fma(r${r}[e + 3u], r${r}[e + 3u], a3); j = j + 4u; }
      for (; j < n; j = j + 1u) { let v = r${r}[base + j]; a0 = fma(v, v, a0); } }`;
  const perGroup = Array.from({ length: groups }, (_, g) => `
    {
      var a0 = 0.0; var a1 = 0.0; var a2 = 0.0; var a3 = 0.0;
${groupOf.flatMap((gr, r) => (gr === g ? [sq(r)] : [])).join('\n')}
      let norm = sqrt((a0 + a1) + (a2 + a3));
      ${factorOf(g)}
    }`).join('');
  return `  for (var i = lid; i < u.B; i = i + ${WG}u) {${perGroup}
  }
  workgroupBarrier();`;
}
