import * as tf from '@tensorflow/tfjs-core';
import { registerInPlaceKernel, runInPlaceKernel } from '../webgpu/direct-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { ghostSqNormFuses } from './ghost-sq-norm';
import { dispatchGhostPartials } from './ghost-sq-norm-split-wgsl';
import { ghostLayerWidth, type GhostLayer } from './ghost-sq-norm-wgsl';

const KERNEL = 'ClipwiseGhostSqNormPartialsMany';
/** A later launch of the same partials, writing its layer's columns of the first launch's output in place. */
const INTO_KERNEL = 'ClipwiseGhostSqNormPartialsInto';

/** One layer's operands for `ghostSqNormPartialsMany`: a [B, T, d], g [B, T, p], and whether the bias's norm joins the weight's. */
export interface GhostSqNormPair {
  readonly a: tf.Tensor3D;
  readonly g: tf.Tensor3D;
  readonly bias?: boolean;
}

/**
 * `ghostSqNormPartials` of many layers at once: one partials tensor [B, ΣW_l], each layer's tile
 * partials (and, with `bias`, its bias's chunks) side by side, so the row sums are the layers' summed
 * squared norms Σ_l (‖a_liᵀ g_li‖² + ‖Σ_t g_lit‖²) (Li et al. 2022 ghost norms, one group's share).
 * The layers share B; T, d and p may differ. One launch a layer (`dispatchGhostLayer` says why), each
 * writing its columns of the same tensor. Null where the fused kernel does not run for some pair
 * (`ghostSqNormFuses`: off webgpu, K past its limit): use `ghostSqNormPartials` or `ghostSqNorm` there.
 *
 * @example
 * const partials = ghostSqNormPartialsMany([{ a: a1, g: dy1, bias: true }, { a: a2, g: dy2 }]); // [B, W1 + W2], or null
 * const sq = partials && tf.sum(partials, 1); // ‖∂ℓ_i/∂W1‖² + ‖∂ℓ_i/∂b1‖² + ‖∂ℓ_i/∂W2‖²
 */
export function ghostSqNormPartialsMany(pairs: readonly GhostSqNormPair[]): tf.Tensor2D | null {
  if (pairs.length === 0) throw new RangeError('ghostSqNormPartialsMany: no layers; pass at least one { a, g } pair');
  const b = pairs[0]!.a.shape[0];
  for (const { a, g } of pairs) {
    if (a.rank !== 3 || g.rank !== 3 || a.shape[0] !== b || g.shape[0] !== b || g.shape[1] !== a.shape[1]) {
      throw new RangeError(`ghostSqNormPartialsMany: a [${a.shape}] and g [${g.shape}] must be [B, T, d] and [B, T, p] with the same T and B = ${b} for every layer`);
    }
  }
  if (!pairs.every(({ a, g }) => ghostSqNormFuses(a, g))) return null;
  const widths = pairs.map(({ a, g, bias }) => ghostLayerWidth(a.shape[1], g.shape[2], bias === true));
  const width = widths.reduce((x, y) => x + y, 0);
  let out: tf.Tensor2D | null = null;
  let start = 0;
  pairs.forEach(({ a, g, bias }, k) => {
    const attrs = { bias: bias === true, width, start };
    if (out === null) out = tf.engine().runKernel(KERNEL, { a, g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
    else runInPlaceKernel(INTO_KERNEL, { out, a, g }, attrs);
    start += widths[k]!;
  });
  return out;
}

/** The launch's layer from a kernel's inputs and attributes. */
function layerOf(inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>): GhostLayer {
  return { a: inputs['a']!, g: inputs['g']!, bias: attrs['bias'] === true };
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const be = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };
  const out = be.makeTensorInfo([inputs['a']!.shape[0]!, attrs['width'] as number], 'float32');
  dispatchGhostPartials(out, layerOf(inputs, attrs), attrs['start'] as number);
  return out;
});

registerInPlaceKernel(INTO_KERNEL, (inputs, attrs) => dispatchGhostPartials(inputs['out']!, layerOf(inputs, attrs), attrs['start'] as number));
