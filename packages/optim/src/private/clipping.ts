import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, fusedOnDevice, packUniforms, registerWebgpuKernel } from '@clipwise/core';
import { ClipwiseOptimError } from '../errors';

/**
 * Per-sample clipping function.
 * - 'abadi' (Abadi et al. 2016): c = min(1, C / n).
 * - 'automatic' (AUTO-S, Bu et al. 2023, "Automatic clipping"): c = C / (n + γ); every sample is
 *   rescaled, so the threshold only scales the learning rate.
 */
export type ClippingConfig = { readonly fn: 'abadi' } | { readonly fn: 'automatic'; readonly gamma?: number };

export function validateClipping(config: ClippingConfig): Required<{ fn: ClippingConfig['fn']; gamma: number }> {
  if (config.fn === 'abadi') return { fn: 'abadi', gamma: 0 };
  if (config.fn === 'automatic') {
    const gamma = config.gamma ?? 0.01;
    if (!(gamma > 0) || !Number.isFinite(gamma)) {
      throw new ClipwiseOptimError(`automatic clipping needs gamma > 0 (stability constant), got ${gamma}; the usual value is 0.01`);
    }
    return { fn: 'automatic', gamma };
  }
  throw new ClipwiseOptimError(`unknown clipping function '${(config as { fn: string }).fn}': expected 'abadi' or 'automatic'`);
}

/** Clip factors [B] for per-sample norms `norms` [B] and threshold C. */
export function clipFactors(norms: tf.Tensor1D, threshold: number, config: ClippingConfig): tf.Tensor1D {
  const { fn, gamma } = validateClipping(config);
  return tf.tidy(() => {
    if (fn === 'automatic') return tf.div(threshold, tf.add(norms, gamma)) as tf.Tensor1D;
    // min(1, C / n) as C / max(n, C): 1 for n ≤ C (n = 0 included), C / n above; two ops, not three
    return tf.div(threshold, tf.maximum(norms, threshold)) as tf.Tensor1D;
  });
}

const KERNEL = 'ClipwiseClipFactors';

/**
 * Per-sample norms n = sqrt(s) and clip factors c from squared norms `sq` [B]: `clipFactors(sqrt(sq))`
 * in one kernel on webgpu (three TF.js launches per group otherwise: 150 a layer-wise GPT-2 small
 * step). Both are new tensors the caller owns.
 *
 * @example
 * const { norms, factors } = normsAndClipFactors(groupSq, 1.0, { fn: 'abadi' });
 */
export function normsAndClipFactors(sq: tf.Tensor1D, threshold: number, config: ClippingConfig): { norms: tf.Tensor1D; factors: tf.Tensor1D } {
  const { fn, gamma } = validateClipping(config);
  if (!fusedOnDevice() || sq.dtype !== 'float32') {
    const norms = tf.sqrt(sq) as tf.Tensor1D;
    return { norms, factors: clipFactors(norms, threshold, config) };
  }
  const [norms, factors] = tf.engine().runKernel(KERNEL, { sq }, { threshold, gamma, automatic: fn === 'automatic' } as unknown as tf.NamedAttrMap) as tf.Tensor1D[];
  return { norms: norms!, factors: factors! };
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { threshold, gamma, automatic } = attrs as unknown as { threshold: number; gamma: number; automatic: boolean };
  const sq = inputs['sq']!;
  const n = sq.shape[0]!;
  const be = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };
  const norms = be.makeTensorInfo([n], 'float32');
  const factors = be.makeTensorInfo([n], 'float32');
  dispatchDirect({
    key: `${KERNEL}_${automatic}`,
    // the same arithmetic as clipFactors: C / max(n, C), or C / (n + γ)
    code: () => /* wgsl */ `
struct U { n : u32, threshold : f32, gamma : f32, pad : u32 };
@group(0) @binding(0) var<storage, read_write> norms : array<f32>;
@group(0) @binding(1) var<storage, read_write> factors : array<f32>;
@group(0) @binding(2) var<storage, read> sq : array<f32>;
@group(0) @binding(3) var<uniform> u : U;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let i = gid.x;
  if (i >= u.n) { return; }
  let norm = sqrt(sq[i]);
  norms[i] = norm;
  factors[i] = ${automatic ? 'u.threshold / (norm + u.gamma)' : 'u.threshold / max(norm, u.threshold)'};
}`,
    buffers: [{ tensor: norms, write: true }, { tensor: factors, write: true }, { tensor: sq }],
    uniforms: packUniforms([['u', n], ['f', threshold], ['f', gamma], ['u', 0]]),
    workgroups: [Math.ceil(n / 64), 1, 1],
  });
  return [norms, factors] as unknown as tf.TensorInfo;
});
