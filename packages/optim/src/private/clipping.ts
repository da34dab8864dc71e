import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, fusedOnDevice, packUniforms, registerWebgpuKernel, storageBindingsPerDispatch } from '@clipwise/core';
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

/** Squared-norm terms `normsAndClipFactors` sums in its one kernel: the device's bindings less its two outputs. */
export function clipFactorTermsMax(): number {
  return storageBindingsPerDispatch() - 2;
}

/**
 * Per-sample norms n = sqrt(Σ_k sq_k) and clip factors c from squared norms `sq` [B] (one tensor, or
 * the terms of a group's sum): `clipFactors(sqrt(addN(sq)))` in one kernel on webgpu (where a group's
 * sum of terms, the square root and the factors were up to five TF.js launches: a layer-wise GPT-2
 * small step has 75 groups). Both results are new tensors the caller owns; `sq` stays the caller's.
 *
 * @example
 * const { norms, factors } = normsAndClipFactors([weightSq, biasSq], 1.0, { fn: 'abadi' });
 */
export function normsAndClipFactors(
  sq: tf.Tensor1D | readonly tf.Tensor1D[],
  threshold: number,
  config: ClippingConfig,
): { norms: tf.Tensor1D; factors: tf.Tensor1D } {
  const { fn, gamma } = validateClipping(config);
  const terms: readonly tf.Tensor1D[] = Array.isArray(sq) ? sq : [sq as tf.Tensor1D];
  if (terms.length === 0) throw new RangeError('normsAndClipFactors: no squared norms');
  if (!fusedOnDevice() || terms.some((t) => t.dtype !== 'float32') || terms.length > clipFactorTermsMax()) {
    return tf.tidy(() => {
      const norms = tf.sqrt(sumInChunks(terms)) as tf.Tensor1D;
      return { norms, factors: clipFactors(norms, threshold, config) };
    });
  }
  const inputs = Object.fromEntries(terms.map((t, k) => [`sq${k}`, t]));
  const [norms, factors] = tf.engine().runKernel(KERNEL, inputs, { threshold, gamma, automatic: fn === 'automatic', count: terms.length } as unknown as tf.NamedAttrMap) as tf.Tensor1D[];
  return { norms: norms!, factors: factors! };
}

/** Σ of `terms` by addN's of as many inputs as a kernel binds (webgpu's AddN binds them all); inside a tidy. */
function sumInChunks(terms: readonly tf.Tensor1D[]): tf.Tensor1D {
  const most = storageBindingsPerDispatch() - 1;
  let rest = [...terms];
  while (rest.length > 1) {
    const next: tf.Tensor1D[] = [];
    for (let i = 0; i < rest.length; i += most) {
      const chunk = rest.slice(i, i + most);
      next.push(chunk.length === 1 ? chunk[0]! : (tf.addN(chunk) as tf.Tensor1D));
    }
    rest = next;
  }
  return rest[0]!;
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { threshold, gamma, automatic, count } = attrs as unknown as { threshold: number; gamma: number; automatic: boolean; count: number };
  const terms = Array.from({ length: count }, (_, k) => inputs[`sq${k}`]!);
  const n = terms[0]!.shape[0]!;
  const be = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };
  const norms = be.makeTensorInfo([n], 'float32');
  const factors = be.makeTensorInfo([n], 'float32');
  dispatchDirect({
    key: `${KERNEL}_${automatic}_${count}`,
    // the same arithmetic as clipFactors(sqrt(addN)): terms added left to right, then C / max(n, C) or C / (n + γ)
    code: () => /* wgsl */ `
struct U { n : u32, threshold : f32, gamma : f32, pad : u32 };
@group(0) @binding(0) var<storage, read_write> norms : array<f32>;
@group(0) @binding(1) var<storage, read_write> factors : array<f32>;
${terms.map((_, k) => `@group(0) @binding(${k + 2}) var<storage, read> sq${k} : array<f32>;`).join('\n')}
@group(0) @binding(${count + 2}) var<uniform> u : U;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let i = gid.x;
  if (i >= u.n) { return; }
  let norm = sqrt(${terms.map((_, k) => `sq${k}[i]`).join(' + ')});
  norms[i] = norm;
  factors[i] = ${automatic ? 'u.threshold / (norm + u.gamma)' : 'u.threshold / max(norm, u.threshold)'};
}`,
    buffers: [{ tensor: norms, write: true }, { tensor: factors, write: true }, ...terms.map((t) => ({ tensor: t }))],
    uniforms: packUniforms([['u', n], ['f', threshold], ['f', gamma], ['u', 0]]),
    workgroups: [Math.ceil(n / 64), 1, 1],
  });
  return [norms, factors] as unknown as tf.TensorInfo;
});
