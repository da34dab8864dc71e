import type { MatmulTile } from './matmul-wgsl';

/**
 * A matmul whose K scale is per-sample clip factors it forms itself (`MatmulVariant.clipA`): each
 * workgroup, before its main loop, sums every sample's row of squared-norm partials P [B, W] (a thread
 * a sample), takes n_i = sqrt(Σ_w P[i, w]) and c_i (Abadi: C / max(n_i, C); automatic: C / (n_i + γ)),
 * keeps the factors in workgroup memory, and stages A's K axis scaled by c[k / kGroup]. Workgroup
 * (0, 0, 0) also writes the norms and factors out. Book-Keeping's clip factors and clipped sum are then
 * one launch, where the factors were a launch of their own (a layer-wise group's close).
 * Every workgroup repeats the B·W reads: small beside a product over B·T rows, hence the caps below.
 */

/** Most samples the workgroup array holds; more take the two-launch path. */
export const MAX_CLIP_SAMPLES = 1024;
/** Most partials (B·W) each workgroup sums before its product; more take the two-launch path. */
export const MAX_CLIP_PARTIALS = 1 << 17;

/** The workgroup array's length for B samples: a power of two from 64, so that few pipelines serve a Poisson batch's sizes. */
export function clipCapacity(samples: number): number {
  return Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, samples))));
}

/** Whether a tile's staging and the factors of `capacity` samples fit the device's workgroup memory. */
export function clipFitsWorkgroup(tile: MatmulTile, capacity: number, maxWorkgroupBytes: number): boolean {
  return capacity <= MAX_CLIP_SAMPLES && 8 * tile.bk * (tile.bm + tile.bn) + 4 * capacity <= maxWorkgroupBytes;
}

/** The uniform fields the prologue reads, after the matmul's own. */
export const CLIP_UNIFORM_FIELDS = 'samples : u32, width : u32, automatic : u32, threshold : f32, gamma : f32,';

/** Bindings `first`..`first + 2`: the partials, the norms and the factors; and the factors' workgroup array. */
export function clipBindings(first: number, capacity: number): string {
  return `@group(0) @binding(${first}) var<storage, read> P : array<f32>;
@group(0) @binding(${first + 1}) var<storage, read_write> norms : array<f32>;
@group(0) @binding(${first + 2}) var<storage, read_write> factors : array<f32>;
var<workgroup> clipf : array<f32, ${capacity}>;
`;
}

/** The prologue (after `lid` and `wg` are known, before staging): every factor into `clipf`. */
export function clipPrologue(threads: number): string {
  return `for (var i = lid; i < u.samples; i = i + ${threads}u) {
    var s = 0.0;
    let row = i * u.width;
    for (var w = 0u; w < u.width; w = w + 1u) { s = s + P[row + w]; }
    let norm = sqrt(s);
    let c = select(u.threshold / max(norm, u.threshold), u.threshold / (norm + u.gamma), u.automatic == 1u);
    clipf[i] = c;
    if (wg.x == 0u && wg.y == 0u && wg.z == 0u) {
      norms[i] = norm;
      factors[i] = c;
    }
  }
  workgroupBarrier();`;
}

/** The factor of A's K index `k` (staged values past K are zeros: any sample's factor serves). */
export const clipScaleOf = (k: string): string => `clipf[min((${k}) / u.kGroup, u.samples - 1u)]`;
