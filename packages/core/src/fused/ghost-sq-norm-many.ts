import * as tf from '@tensorflow/tfjs-core';
import { registerInPlaceKernel, runInPlaceKernel, storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { ghostSqNormFuses } from './ghost-sq-norm';
import { dispatchGhostLayers, ghostLayerWidth, type GhostLayer } from './ghost-sq-norm-wgsl';

const KERNEL = 'ClipwiseGhostSqNormPartialsMany';
/** A later launch of the same partials, writing its layers' columns of the first launch's output in place. */
const INTO_KERNEL = 'ClipwiseGhostSqNormPartialsInto';
/** Most workgroups along x one dispatch may have (WebGPU's default `maxComputeWorkgroupsPerDimension`). */
const MAX_WORKGROUPS_X = 65535;

/** One layer's operands for `ghostSqNormPartialsMany`: a [B, T, d], g [B, T, p], and whether the bias's norm joins the weight's. */
export interface GhostSqNormPair {
  readonly a: tf.Tensor3D;
  readonly g: tf.Tensor3D;
  readonly bias?: boolean;
}

/**
 * Layers one launch of `ghostSqNormPartialsMany` takes by default: 1. On an H100 (2026-12-05, `apps/finetune/bench/ghost-norm-kernel.ts`)
 * GPT-2 small's 48 layers took 4.9 ms as 48 one-layer launches and 17–18 ms as 7 launches of seven
 * (ViT-B/16's 72: about 20 against 39 ms): the many-layer kernel picks each K step's loads through a
 * switch on the layer, which costs more than the 40–60 launches it saves.
 */
let defaultLayersPerLaunch: number | null = 1;

/**
 * Sets how many layers one launch of `ghostSqNormPartialsMany` takes when the call does not say:
 * a count, or null for as many as the device binds. For before/after benchmarks.
 *
 * @example
 * setGhostLayersPerLaunch(null); // as many layers a launch as the device binds (7 at 16 bindings)
 */
export function setGhostLayersPerLaunch(layers: number | null): void {
  if (layers !== null && (!Number.isInteger(layers) || layers < 1)) throw new RangeError(`setGhostLayersPerLaunch: a whole number of layers ≥ 1 or null, got ${layers}`);
  defaultLayersPerLaunch = layers;
}

/**
 * `ghostSqNormPartials` of many layers at once: one partials tensor [B, ΣW_l], each layer's tile
 * partials (and, with `bias`, its bias's chunks) side by side, so the row sums are the layers' summed
 * squared norms Σ_l (‖a_liᵀ g_li‖² + ‖Σ_t g_lit‖²) (Li et al. 2022 ghost norms, one group's share).
 * The layers share B; T, d and p may differ. A launch takes `layersPerLaunch` layers (default
 * `setGhostLayersPerLaunch`'s, 1), at most as many as the device binds (each binds a and g beside
 * the one output: 7 on a 16-binding device, 15 on 32; `bindings` lowers it); the launches write their
 * columns of the same tensor. Null where the fused kernel does not run for some pair (`ghostSqNormFuses`: off
 * webgpu, K past its limit): use `ghostSqNormPartials` or `ghostSqNorm` there.
 *
 * @example
 * const partials = ghostSqNormPartialsMany([{ a: a1, g: dy1, bias: true }, { a: a2, g: dy2 }]); // [B, W1 + W2], or null
 * const sq = partials && tf.sum(partials, 1); // ‖∂ℓ_i/∂W1‖² + ‖∂ℓ_i/∂b1‖² + ‖∂ℓ_i/∂W2‖²
 */
export function ghostSqNormPartialsMany(pairs: readonly GhostSqNormPair[], options: { bindings?: number; layersPerLaunch?: number | null } = {}): tf.Tensor2D | null {
  if (pairs.length === 0) throw new RangeError('ghostSqNormPartialsMany: no layers; pass at least one { a, g } pair');
  const perLaunch = options.layersPerLaunch === undefined ? defaultLayersPerLaunch : options.layersPerLaunch;
  if (perLaunch !== null && (!Number.isInteger(perLaunch) || perLaunch < 1)) throw new RangeError(`ghostSqNormPartialsMany: layersPerLaunch must be a whole number ≥ 1 or null, got ${perLaunch}`);
  const b = pairs[0]!.a.shape[0];
  for (const { a, g } of pairs) {
    if (a.rank !== 3 || g.rank !== 3 || a.shape[0] !== b || g.shape[0] !== b || g.shape[1] !== a.shape[1]) {
      throw new RangeError(`ghostSqNormPartialsMany: a [${a.shape}] and g [${g.shape}] must be [B, T, d] and [B, T, p] with the same T and B = ${b} for every layer`);
    }
  }
  if (!pairs.every(({ a, g }) => ghostSqNormFuses(a, g))) return null;
  const bindings = options.bindings ?? storageBindingsPerDispatch();
  if (bindings < 3) throw new RangeError(`ghostSqNormPartialsMany: bindings must be at least 3 (an output, a and g), got ${bindings}`);
  const launches = planLaunches(pairs, Math.min(Math.floor((bindings - 1) / 2), perLaunch ?? Infinity));
  const width = pairs.reduce((w, { a, g, bias }) => w + ghostLayerWidth(a.shape[1], g.shape[2], bias === true), 0);
  // every launch binds as many layers as the largest: one pipeline for all
  const slots = Math.max(...launches.map((l) => l.length));
  let out: tf.Tensor2D | null = null;
  let start = 0;
  for (const layers of launches) {
    const inputs: tf.NamedTensorMap = {};
    layers.forEach(({ a, g }, k) => Object.assign(inputs, { [`a${k}`]: a, [`g${k}`]: g }));
    const attrs = { count: layers.length, slots, bias: layers.map(({ bias }) => (bias ? 1 : 0)), width, start };
    if (out === null) out = tf.engine().runKernel(KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
    else runInPlaceKernel(INTO_KERNEL, { out, ...inputs }, attrs);
    start += layers.reduce((w, { a, g, bias }) => w + ghostLayerWidth(a.shape[1], g.shape[2], bias === true), 0);
  }
  return out;
}

/** The layers of each launch, in order: at most `per` a launch and within the grid's x limit. */
function planLaunches(pairs: readonly GhostSqNormPair[], per: number): GhostSqNormPair[][] {
  const launches: GhostSqNormPair[][] = [];
  let current: GhostSqNormPair[] = [];
  let columns = 0;
  for (const pair of pairs) {
    const w = ghostLayerWidth(pair.a.shape[1], pair.g.shape[2], pair.bias === true);
    if (current.length === per || (current.length > 0 && columns + w > MAX_WORKGROUPS_X)) {
      launches.push(current);
      current = [];
      columns = 0;
    }
    current.push(pair);
    columns += w;
  }
  launches.push(current);
  return launches;
}

/** The launch's layers from a kernel's inputs and attributes. */
function layersOf(inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>): GhostLayer[] {
  const bias = attrs['bias'] as number[];
  return Array.from({ length: attrs['count'] as number }, (_, k) => ({ a: inputs[`a${k}`]!, g: inputs[`g${k}`]!, bias: bias[k] === 1 }));
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const be = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };
  const out = be.makeTensorInfo([inputs['a0']!.shape[0]!, attrs['width'] as number], 'float32');
  dispatchGhostLayers(out, layersOf(inputs, attrs), attrs['start'] as number, attrs['slots'] as number);
  return out;
});

registerInPlaceKernel(INTO_KERNEL, (inputs, attrs) => dispatchGhostLayers(inputs['out']!, layersOf(inputs, attrs), attrs['start'] as number, attrs['slots'] as number));
