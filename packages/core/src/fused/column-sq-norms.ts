import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { columnSum } from './column-sum';
import { fusedOnDevice } from './fused-kernels';
import { perSampleSqNorm } from './per-sample-dot';

const KERNEL = 'ClipwiseColumnSqNorms';
const WG = 256;

/** Per-sample squared norms of column sums (see `columnSqNorms`). */
export interface ColumnSqNorms {
  /** Σ_j (Σ_t dy_itj)² ([B]): a bias's (or layer norm β's) per-sample squared gradient norm. */
  readonly plain: tf.Tensor1D;
  /** Σ_j (Σ_t dy_itj x_itj)² ([B]) when `x` is given: layer norm γ's, with x the normalised input. */
  readonly weighted?: tf.Tensor1D;
}

/**
 * Per-sample squared norms of the column sums of dy [B, T, p] (and of dy ⊙ x): the per-sample
 * gradient norms of a bias (Σ_t dy_t) and of a layer norm's γ and β, without the [B, p] per-sample
 * gradients. On webgpu one kernel for both (a workgroup a sample, coalesced column reads); the
 * column sums and their squared norms were four launches for a layer norm, two for a bias. Elsewhere
 * `columnSum` and `perSampleSqNorm` each.
 *
 * @example
 * const { plain, weighted } = columnSqNorms(dy, xhat); // β's and γ's ‖g_i‖², [B] each
 */
export function columnSqNorms(dy: tf.Tensor3D, x?: tf.Tensor3D): ColumnSqNorms {
  if (dy.rank !== 3) throw new Error(`columnSqNorms: dy must be [B, T, p], got [${dy.shape}]`);
  if (x && x.shape.join(',') !== dy.shape.join(',')) throw new Error(`columnSqNorms: x [${x.shape}] must have dy's shape [${dy.shape}]`);
  const [b, t, p] = dy.shape;
  if (fusedOnDevice() && dy.dtype === 'float32' && (!x || x.dtype === 'float32') && b > 0 && t > 0 && p > 0) {
    const outs = tf.engine().runKernel(KERNEL, x ? { dy, x } : { dy }, {}) as tf.Tensor[];
    return x ? { plain: outs[0] as tf.Tensor1D, weighted: outs[1] as tf.Tensor1D } : { plain: outs[0] as tf.Tensor1D };
  }
  return tf.tidy(() => {
    const plain = perSampleSqNorm(columnSum(dy, { perSample: true }) as tf.Tensor2D);
    return x ? { plain, weighted: perSampleSqNorm(columnSum(dy, { mul: x, perSample: true }) as tf.Tensor2D) } : { plain };
  });
}

registerWebgpuKernel(KERNEL, ({ inputs, backend }) => {
  const { dy, x } = inputs as Record<string, tf.TensorInfo | undefined>;
  const [b, t, p] = dy!.shape as [number, number, number];
  const be = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };
  const plain = be.makeTensorInfo([b], 'float32');
  const weighted = x ? be.makeTensorInfo([b], 'float32') : null;
  dispatchDirect({
    key: `clipwiseColumnSqNorms_${x ? 2 : 1}`,
    code: () => columnSqNormsWgsl(!!x),
    buffers: [{ tensor: plain, write: true }, ...(weighted ? [{ tensor: weighted, write: true }] : []), { tensor: dy! }, ...(x ? [{ tensor: x }] : [])],
    uniforms: packUniforms([t, p].map((v) => ['u', v] as const)),
    workgroups: [b, 1, 1],
  });
  return (weighted ? [plain, weighted] : [plain]) as unknown as tf.TensorInfo;
});

/** One workgroup a sample: each thread takes columns lid, lid + WG, …, sums them over T (four rows a step), squares and accumulates; then a tree reduction. */
function columnSqNormsWgsl(withX: boolean): string {
  const sums = withX ? ['s0', 's1'] : ['s0'];
  return /* wgsl */ `
struct U { T : u32, p : u32 };
@group(0) @binding(0) var<storage, read_write> plain : array<f32>;
${withX ? '@group(0) @binding(1) var<storage, read_write> weighted : array<f32>;' : ''}
@group(0) @binding(${withX ? 2 : 1}) var<storage, read> DY : array<f32>;
${withX ? '@group(0) @binding(3) var<storage, read> X : array<f32>;' : ''}
@group(0) @binding(${withX ? 4 : 2}) var<uniform> u : U;

var<workgroup> red0 : array<f32, ${WG}>;
${withX ? `var<workgroup> red1 : array<f32, ${WG}>;` : ''}

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let lid = l.x;
  let base = wg.x * u.T * u.p;
  var acc0 = 0.0;
  var acc1 = 0.0;
  for (var j = lid; j < u.p; j = j + ${WG}u) {
    ${sums.map((s) => `var ${s} = vec4<f32>(0.0);`).join(' ')}
    // four rows a step, in four independent lanes (loads in flight together)
    var t = 0u;
    for (; t + 4u <= u.T; t = t + 4u) {
      let i = base + t * u.p + j;
      let d = vec4<f32>(DY[i], DY[i + u.p], DY[i + 2u * u.p], DY[i + 3u * u.p]);
      s0 = s0 + d;
      ${withX ? 's1 = s1 + d * vec4<f32>(X[i], X[i + u.p], X[i + 2u * u.p], X[i + 3u * u.p]);' : ''}
    }
    for (; t < u.T; t = t + 1u) {
      let i = base + t * u.p + j;
      s0.x = s0.x + DY[i];
      ${withX ? 's1.x = s1.x + DY[i] * X[i];' : ''}
    }
    let c0 = s0.x + s0.y + s0.z + s0.w;
    acc0 = acc0 + c0 * c0;
    ${withX ? 'let c1 = s1.x + s1.y + s1.z + s1.w;\n    acc1 = acc1 + c1 * c1;' : ''}
  }
  red0[lid] = acc0;
  ${withX ? 'red1[lid] = acc1;' : ''}
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red0[lid] = red0[lid] + red0[lid + s];
      ${withX ? 'red1[lid] = red1[lid] + red1[lid + s];' : ''}
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    plain[wg.x] = red0[0];
    ${withX ? 'weighted[wg.x] = red1[0];' : ''}
  }
}
`;
}
