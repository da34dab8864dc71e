import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';

const KERNEL = 'ClipwiseLayerNormForward';
const WG = 128;

/** A layer norm's forward over the last axis: its output and what its backward keeps. */
export interface LayerNormForward {
  /** x̂ · γ + β, shaped as x. */
  readonly y: tf.Tensor;
  /** x̂ = (x − mean) · rstd, shaped as x. */
  readonly xhat: tf.Tensor;
  /** 1 / sqrt(var + eps), one value a row (x's shape without its last axis). */
  readonly rstd: tf.Tensor;
}

/**
 * y, x̂ and rstd of a layer norm in one pass: on webgpu one launch (a workgroup a row: the mean, then
 * the centred variance, as two reductions: E[x²] − E[x]² cancels badly in float32), where x̂, rstd and
 * y were three. Elsewhere the same maths as TF.js ops.
 *
 * @example
 * const { y, xhat, rstd } = layerNormForward(x, gamma, beta, 1e-5);
 */
export function layerNormForward(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): LayerNormForward {
  const d = x.shape[x.rank - 1]!;
  if (gamma.shape.join(',') !== `${d}` || beta.shape.join(',') !== `${d}`) {
    throw new RangeError(`layerNormForward: γ and β must be [${d}] (x's last axis), got [${gamma.shape}] and [${beta.shape}]`);
  }
  if (fusedOnDevice() && x.dtype === 'float32' && x.size > 0) {
    const [y, xhat, rstd] = tf.engine().runKernel(KERNEL, { x, gamma, beta }, { eps }) as tf.Tensor[];
    return { y: y!, xhat: xhat!, rstd: rstd! };
  }
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps));
    const xhat = tf.mul(centred, rstd);
    return { y: tf.add(tf.mul(xhat, gamma), beta), xhat, rstd: tf.reshape(rstd, x.shape.slice(0, -1)) };
  });
}

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const shape = x!.shape;
  const d = shape[shape.length - 1]!;
  const rows = tf.util.sizeFromShape(shape) / d;
  const be = backend as unknown as { makeTensorInfo(s: number[], dt: tf.DataType): tf.TensorInfo };
  const y = be.makeTensorInfo([...shape], 'float32');
  const xhat = be.makeTensorInfo([...shape], 'float32');
  const rstd = be.makeTensorInfo(shape.slice(0, -1), 'float32');
  const eps = attrs['eps'] as number;
  // a 2-D grid past 65,535 rows (WebGPU's per-dimension limit); extra workgroups skip
  const gx = Math.min(rows, 65535);
  dispatchDirect({
    key: `${KERNEL}_${eps}`,
    code: () => layerNormForwardWgsl(eps),
    buffers: [{ tensor: y, write: true }, { tensor: xhat, write: true }, { tensor: rstd, write: true }, { tensor: x! }, { tensor: gamma! }, { tensor: beta! }],
    uniforms: packUniforms([['u', d], ['u', rows], ['u', gx]]),
    workgroups: [gx, Math.ceil(rows / gx), 1],
  });
  return [y, xhat, rstd] as unknown as tf.TensorInfo;
});

function layerNormForwardWgsl(eps: number): string {
  const reduce = (name: string) => `
  red[lid] = ${name};
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let ${name}All = red[0];
  workgroupBarrier();`;
  return /* wgsl */ `
struct U { d : u32, rows : u32, gx : u32, pad : u32 };
@group(0) @binding(0) var<storage, read_write> Y : array<f32>;
@group(0) @binding(1) var<storage, read_write> H : array<f32>;
@group(0) @binding(2) var<storage, read_write> R : array<f32>;
@group(0) @binding(3) var<storage, read> X : array<f32>;
@group(0) @binding(4) var<storage, read> G : array<f32>;
@group(0) @binding(5) var<storage, read> Bt : array<f32>;
@group(0) @binding(6) var<uniform> u : U;
var<workgroup> red : array<f32, ${WG}>;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let lid = l.x;
  let row = wg.y * u.gx + wg.x;
  // no early return: every thread reaches the barriers
  let inRange = row < u.rows;
  let base = min(row, u.rows - 1u) * u.d;
  let d = f32(u.d);
  var sum = 0.0;
  for (var j = lid; j < u.d; j = j + ${WG}u) { sum = sum + X[base + j] / d; }
  ${reduce('sum')}
  let mean = sumAll;
  var sq = 0.0;
  for (var j = lid; j < u.d; j = j + ${WG}u) { let c = X[base + j] - mean; sq = sq + c * c / d; }
  ${reduce('sq')}
  let rstd = inverseSqrt(sqAll + ${eps});
  if (!inRange) { return; }
  for (var j = lid; j < u.d; j = j + ${WG}u) {
    let h = (X[base + j] - mean) * rstd;
    H[base + j] = h;
    Y[base + j] = h * G[j] + Bt[j];
  }
  if (lid == 0u) { R[row] = rstd; }
}
`;
}
