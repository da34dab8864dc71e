import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';
import { clipFactorWgsl } from '../webgpu/clip-factor-wgsl';
import { clippedRowSums } from './clipped-row-sums';
import type { ClipEpilogue } from './row-reductions';

const KERNEL = 'ClipwiseClippedRowSumsGroups';
const WG = 256;
/** Samples a workgroup holds factors for. */
const MAX_SAMPLES = 1024;
/** Row tensors a group may have (a layer norm's γ and β). */
const MAX_GROUP_ROWS = 2;

/** One group of `clippedRowSumsGroups`: its per-sample gradients [B, n_k] and its clipping. */
export interface RowGroup {
  readonly rows: readonly tf.Tensor2D[];
  readonly clip: ClipEpilogue;
}

/** `clippedRowSumsGroups`'s result, by group: each row tensor's clipped sum [n_k], and the per-sample norms [B]. */
export interface RowGroupSums {
  readonly sums: tf.Tensor1D[];
  readonly norms: tf.Tensor1D;
}

/**
 * The groups one launch of `clippedRowSumsGroups` takes on the active backend: each group binds its
 * rows, their sums and its norms, within the device's storage bindings (`storageBindingsPerDispatch`);
 * 1 off webgpu, where each group is `clippedRowSums` of its own.
 *
 * @example
 * groupsPerLaunch(2); // 6 on a device with 32 storage bindings: layer norms (γ and β) a launch
 */
export function groupsPerLaunch(rowsPerGroup: number): number {
  if (!fusedOnDevice()) return 1;
  return Math.max(1, Math.floor(storageBindingsPerDispatch() / (2 * rowsPerGroup + 1)));
}

/**
 * Clips and sums the per-sample gradients of several small groups, each with its own threshold: group
 * g's per-sample norm n_gi = sqrt(Σ_k ‖rows_gk[i, :]‖²), its factor c_gi = C_g / max(n_gi, C_g) (Abadi)
 * or C_g / (n_gi + γ) (automatic), and its sums Σ_i c_gi rows_gk[i, :] (Book-Keeping's clipped sums).
 * The layer norms' closes of layer-wise and param-wise clipping, gathered: on webgpu one launch (a
 * workgroup a group) for as many groups as the device binds (`groupsPerLaunch`), where each group was
 * a launch of `clippedRowSums`; elsewhere, or past the limits (more than 2 rows a group, more than
 * 1024 samples), `clippedRowSums` a group. Every group has the same batch B and clipping function.
 * All results are new tensors; the rows stay the caller's.
 *
 * @example
 * const [ln1, ln2] = clippedRowSumsGroups([
 *   { rows: [gGamma1, gBeta1], clip: { threshold: 1, automatic: false, gamma: 0 } },
 *   { rows: [gGamma2, gBeta2], clip: { threshold: 0.5, automatic: false, gamma: 0 } },
 * ]);
 * // ln1.sums: [dGamma1, dBeta1]; ln1.norms: [B]
 */
export function clippedRowSumsGroups(groups: readonly RowGroup[]): RowGroupSums[] {
  if (groups.length === 0) return [];
  const b = groups[0]!.rows[0]?.shape[0];
  for (const [g, group] of groups.entries()) {
    if (group.rows.length === 0) throw new RangeError(`clippedRowSumsGroups: group ${g} has no rows`);
    for (const r of group.rows) if (r.rank !== 2 || r.shape[0] !== b) throw new RangeError(`clippedRowSumsGroups: every row tensor must be [B, n] with B = ${b}, got [${r.shape}] in group ${g}`);
  }
  const automatic = groups[0]!.clip.automatic;
  if (groups.some((g) => g.clip.automatic !== automatic)) throw new RangeError('clippedRowSumsGroups: every group must use the same clipping function (Abadi or automatic)');
  const rowsMost = Math.max(...groups.map((g) => g.rows.length));
  const per = groupsPerLaunch(rowsMost);
  const device =
    fusedOnDevice() && per > 1 && b! > 0 && b! <= MAX_SAMPLES && rowsMost <= MAX_GROUP_ROWS &&
    groups.every((g) => g.rows.every((r) => r.dtype === 'float32' && r.shape[1] > 0));
  if (!device) return groups.map(alone);
  const out: RowGroupSums[] = [];
  for (let at = 0; at < groups.length; at += per) {
    const part = groups.slice(at, at + per);
    if (part.length === 1) {
      out.push(alone(part[0]!));
      continue;
    }
    const inputs: Record<string, tf.Tensor> = {};
    part.forEach((g, k) => g.rows.forEach((r, j) => (inputs[`r${k}_${j}`] = r)));
    const attrs = { rowsOf: part.map((g) => g.rows.length).join(','), thresholds: part.map((g) => g.clip.threshold), gamma: part.map((g) => g.clip.gamma), automatic };
    const outs = tf.engine().runKernel(KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor1D[];
    let o = 0;
    for (const g of part) {
      const sums = outs.slice(o, o + g.rows.length);
      o += g.rows.length;
      out.push({ sums, norms: outs[o++]! });
    }
  }
  return out;
}

/** One group by `clippedRowSums` (its own launch, or TF.js ops). */
function alone(g: RowGroup): RowGroupSums {
  const r = clippedRowSums(g.rows, g.rows.map(() => 0), [g.clip]);
  tf.dispose(r.factors);
  return { sums: r.sums, norms: r.norms[0]! };
}

type Backend = { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const rowsOf = (attrs['rowsOf'] as string).split(',').map(Number);
  const thresholds = attrs['thresholds'] as number[];
  const gamma = attrs['gamma'] as number[];
  const automatic = attrs['automatic'] === true;
  const be = backend as unknown as Backend;
  const rows = rowsOf.map((n, k) => Array.from({ length: n }, (_, j) => inputs[`r${k}_${j}`]!));
  const b = rows[0]![0]!.shape[0]!;
  const made = rows.map((rs) => ({ sums: rs.map((r) => be.makeTensorInfo([r.shape[1]!], 'float32')), norms: be.makeTensorInfo([b], 'float32') }));
  // uniforms: B, then a vec4 a group: threshold and γ (f32 bits), its two rows' widths
  const u = new Uint32Array(4 + 4 * rowsOf.length);
  const f = new Float32Array(u.buffer);
  u[0] = b;
  rows.forEach((rs, k) => {
    f[4 + 4 * k] = thresholds[k]!;
    f[5 + 4 * k] = gamma[k]!;
    rs.forEach((r, j) => (u[6 + 4 * k + j] = r.shape[1]!));
  });
  dispatchDirect({
    key: `${KERNEL}_${rowsOf.join('')}_${automatic ? 'auto' : 'abadi'}`,
    code: () => clippedRowSumsGroupsWgsl(rowsOf, automatic),
    buffers: rows.flatMap((rs, k) => [...rs.map((tensor) => ({ tensor })), ...made[k]!.sums.map((tensor) => ({ tensor, write: true })), { tensor: made[k]!.norms, write: true }]),
    uniforms: u.buffer,
    workgroups: [rowsOf.length, 1, 1],
  });
  return made.flatMap((m) => [...m.sums, m.norms]) as unknown as tf.TensorInfo;
});

/**
 * A workgroup a group (`wg.x`, uniform, so its branch holds barriers): each sample's squared norm by L
 * threads together (L the largest power of two with B·L ≤ 256; passes of 256 / L samples) and a tree
 * sum; the segment's first thread writes the norm and keeps the factor; then each thread sums columns
 * j, j + 256, … of the group's rows, weighted by the factors.
 */
function clippedRowSumsGroupsWgsl(rowsOf: readonly number[], automatic: boolean): string {
  const bindings: string[] = [];
  let next = 0;
  const names = rowsOf.map((n, k) => {
    const rows = Array.from({ length: n }, (_, j) => `r${k}_${j}`);
    const sums = Array.from({ length: n }, (_, j) => `o${k}_${j}`);
    for (const r of rows) bindings.push(`@group(0) @binding(${next++}) var<storage, read> ${r} : array<f32>;`);
    for (const o of sums) bindings.push(`@group(0) @binding(${next++}) var<storage, read_write> ${o} : array<f32>;`);
    bindings.push(`@group(0) @binding(${next++}) var<storage, read_write> n${k} : array<f32>;`);
    return { rows, sums };
  });
  const body = (k: number) => {
    const { rows, sums } = names[k]!;
    const p = `u.p[${k}]`;
    const width = (j: number) => `${p}[${2 + j}]`;
    const sq = rows.map((r, j) => `        { let n = ${width(j)}; for (var j = lane; j < n; j = j + L) { let v = ${r}[i * n + j]; a = fma(v, v, a); } }`).join('\n');
    const sum = rows.map((r, j) => `    { let n = ${width(j)};
      for (var j = lid; j < n; j = j + ${WG}u) {
        var s = 0.0;
        for (var i = 0u; i < u.B; i = i + 1u) { s = fma(fac[i], ${r}[i * n + j], s); }
        ${sums[j]}[j] = s;
      } }`).join('\n');
    return `    let threshold = bitcast<f32>(${p}[0]);
    let gamma = bitcast<f32>(${p}[1]);
    for (var q = 0u; q < passes; q = q + 1u) {
      let i = q * perPass + lid / L;
      let live = i < u.B;
      var a = 0.0;
      if (live) {
${sq}
      }
      red[lid] = a;
      workgroupBarrier();
      for (var s = L / 2u; s > 0u; s = s >> 1u) {
        if (lane < s) { red[lid] = red[lid] + red[lid + s]; }
        workgroupBarrier();
      }
      if (live && lane == 0u) {
        let norm = sqrt(red[lid]);
        n${k}[i] = norm;
        fac[i] = ${clipFactorWgsl(automatic, 'norm', 'threshold', 'gamma')};
      }
      workgroupBarrier();
    }
${sum}`;
  };
  const branches = rowsOf.map((_, k) => `${k === 0 ? '' : ' else '}if (wg.x == ${k}u) {\n${body(k)}\n  }`).join('');
  return /* wgsl */ `
struct U { B : u32, pad0 : u32, pad1 : u32, pad2 : u32, p : array<vec4<u32>, ${rowsOf.length}> };
${bindings.join('\n')}
@group(0) @binding(${next}) var<uniform> u : U;
var<workgroup> fac : array<f32, ${MAX_SAMPLES}>;
var<workgroup> red : array<f32, ${WG}>;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let lid = l.x;
  // u.B is a uniform: L, the passes and the tree's steps are too (the barriers stay in uniform control flow)
  let lg = select(firstLeadingBit(max(u.B, 2u) - 1u) + 1u, 0u, u.B <= 1u);
  let L = max(1u, ${WG}u >> min(lg, 8u));
  let perPass = ${WG}u / L;
  let lane = lid % L;
  let passes = (u.B + perPass - 1u) / perPass;
  ${branches}
}
`;
}
