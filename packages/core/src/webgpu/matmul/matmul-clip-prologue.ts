import { clipFactorWgsl } from '../clip-factor-wgsl';
import type { MatmulTile } from './matmul-wgsl';

/**
 * A matmul whose K scale is per-sample clip factors it forms itself (`MatmulVariant.clipA`): each
 * workgroup, before its main loop, sums every sample's row of squared-norm partials P [B, W] (a thread a
 * sample, from global memory or, with `setStagedClipPrologue`, from A's staging: `clipPrologue`), takes
 * n_i = sqrt(Σ_w P[i, w]) and c_i (Abadi: C / max(n_i, C); automatic: C / (n_i + γ)),
 * keeps the factors in workgroup memory, and stages A's K axis scaled by c[k / kGroup]. Workgroup
 * (0, 0, 0) also writes the norms and factors out. Book-Keeping's clip factors and clipped sum are then
 * one launch, where the factors were a launch of their own (a layer-wise group's close).
 * Every workgroup repeats the B·W reads: small beside a product over B·T rows, hence the caps below.
 *
 * With `apart` (a linear layer whose weight and bias are clipped in groups of their own: param-wise),
 * the partials' columns from `biasFrom` on are the bias's: they give the bias's norms and factors
 * (threshold `biasThreshold`, in a second workgroup array), which scale the product's row or column of
 * ones, so the bias's clipped sum comes out of the weight's product as it does when the two share c.
 */

/** Most samples the workgroup array holds; more take the two-launch path. */
export const MAX_CLIP_SAMPLES = 1024;
/** Most partials (B·W) each workgroup sums before its product; more take the two-launch path. */
export const MAX_CLIP_PARTIALS = 1 << 17;

/** The workgroup array's length for B samples: a power of two from 64, so that few pipelines serve a Poisson batch's sizes. */
export function clipCapacity(samples: number): number {
  return Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, samples))));
}

/** Whether a tile's staging and the factors of `capacity` samples (twice that `apart`) fit the device's workgroup memory. */
export function clipFitsWorkgroup(tile: MatmulTile, capacity: number, maxWorkgroupBytes: number, apart = false): boolean {
  return capacity <= MAX_CLIP_SAMPLES && 8 * tile.bk * (tile.bm + tile.bn) + 4 * capacity * (apart ? 2 : 1) <= maxWorkgroupBytes;
}

/** The uniform fields the prologue reads, after the matmul's own (`apart`: the bias's first column and threshold too). */
export function clipUniformFields(apart: boolean): string {
  return `samples : u32, width : u32, automatic : u32, threshold : f32, gamma : f32,${apart ? ' biasFrom : u32, biasThreshold : f32,' : ''}`;
}

/** Storage bindings from `first` on: the partials, the norms, the factors (`apart`: and the bias's norms). */
export function clipBindingCount(apart: boolean): number {
  return apart ? 4 : 3;
}

/** Bindings `first`.. (`clipBindingCount`): the partials, the norms, the factors (and the bias's norms); the factors' workgroup arrays. */
export function clipBindings(first: number, capacity: number, apart = false): string {
  return `@group(0) @binding(${first}) var<storage, read> P : array<f32>;
@group(0) @binding(${first + 1}) var<storage, read_write> norms : array<f32>;
@group(0) @binding(${first + 2}) var<storage, read_write> factors : array<f32>;
var<workgroup> clipf : array<f32, ${capacity}>;
${apart ? `@group(0) @binding(${first + 3}) var<storage, read_write> biasNorms : array<f32>;
var<workgroup> clipb : array<f32, ${capacity}>;
` : ''}`;
}

/**
 * The prologue (after `lid` and `wg` are known, before staging): every factor into `clipf` (and the
 * bias's into `clipb`), each sample's thread walking its row of partials. With `stageFloats` > 0 (the
 * staged form, `setStagedClipPrologue`) and where the B·W partials fit A's staging array (free before
 * the main loop), the workgroup's threads first load them into it together and the walks read them
 * there; at GPT-2's and ViT's W of 13-18 that measured slower than walking global memory.
 */
export function clipPrologue(threads: number, apart = false, stageFloats = 0): string {
  // the clipping function is a uniform here (one pipeline for both)
  const factor = (norm: string, threshold: string) =>
    `select(${clipFactorWgsl(false, norm, threshold, 'u.gamma')}, ${clipFactorWgsl(true, norm, threshold, 'u.gamma')}, u.automatic == 1u)`;
  const perSample = (read: (at: string) => string) => `for (var i = lid; i < u.samples; i = i + ${threads}u) {
    var s = 0.0;
    let row = i * u.width;
    for (var w = 0u; w < ${apart ? 'u.biasFrom' : 'u.width'}; w = w + 1u) { s = s + ${read('row + w')}; }
    let norm = sqrt(s);
    let c = ${factor('norm', 'u.threshold')};
    clipf[i] = c;${apart ? `
    var sb = 0.0;
    for (var w = u.biasFrom; w < u.width; w = w + 1u) { sb = sb + ${read('row + w')}; }
    let normB = sqrt(sb);
    clipb[i] = ${factor('normB', 'u.biasThreshold')};` : ''}
    if (wg.x == 0u && wg.y == 0u && wg.z == 0u) {
      norms[i] = norm;
      factors[i] = c;${apart ? `
      biasNorms[i] = normB;` : ''}
    }
  }`;
  if (stageFloats <= 0) return `${perSample((at) => `P[${at}]`)}
  workgroupBarrier();`;
  // u.samples and u.width are uniforms: both branches are in uniform control flow, barriers included
  return `if (u.samples * u.width <= ${stageFloats}u) {
    for (var i = lid; i < u.samples * u.width; i = i + ${threads}u) { tileA[i / 4u][i % 4u] = P[i]; }
    workgroupBarrier();
    ${perSample((at) => `tileA[(${at}) / 4u][(${at}) % 4u]`)}
  } else {
    ${perSample((at) => `P[${at}]`)}
  }
  // the factors are in, and A's staging is free again
  workgroupBarrier();`;
}

/** The factor of A's K index `k` (staged values past K are zeros: any sample's factor serves). */
export const clipScaleOf = (k: string): string => `clipf[min((${k}) / u.kGroup, u.samples - 1u)]`;

/** The bias's factor of K index `k` (`apart`). */
export const clipBiasScaleOf = (k: string): string => `clipb[min((${k}) / u.kGroup, u.samples - 1u)]`;
