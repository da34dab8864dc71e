import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms, storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { dispatchSlots, slotBranches } from '../webgpu/slot-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';
import { perSampleSqNorm } from './per-sample-dot';

const SQ_KERNEL = 'ClipwiseRowSqNormSum';
const SUMS_KERNEL = 'ClipwiseWeightedRowSums';
const WG = 256;
/** Most tensors one dispatch reads (more where the device binds more; see `storageBindingsPerDispatch`). */
const MAX_BINDINGS = 32;

type Backend = { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo };

function checkRows(name: string, rows: readonly tf.Tensor[]): number {
  if (rows.length === 0) throw new RangeError(`${name}: no tensors`);
  const b = rows[0]!.shape[0]!;
  for (const r of rows) {
    if (r.rank !== 2 || r.shape[0] !== b) throw new RangeError(`${name}: every tensor must be [B, n] with B = ${b}, got [${r.shape}]`);
  }
  return b;
}

/**
 * Σ_k ‖g_k[i, :]‖² per sample i, over per-sample gradients g_k [B, n_k] (plus `init` [B] when given):
 * the squared group norm contribution of many small parameters (layer norms, biases) at once. On
 * webgpu one launch reads as many tensors as the device binds (30 on a 32-binding device), where a
 * norm a tensor and their sum were a launch each; elsewhere `perSampleSqNorm` each and one addN.
 *
 * @example
 * const sq = sumOfRowSqNorms([gGamma, gBeta, gBias]); // [B]
 */
export function sumOfRowSqNorms(rows: readonly tf.Tensor2D[], init?: tf.Tensor1D): tf.Tensor1D {
  const b = checkRows('sumOfRowSqNorms', rows);
  if (init && (init.rank !== 1 || init.shape[0] !== b)) throw new RangeError(`sumOfRowSqNorms: init must be [${b}], got [${init.shape}]`);
  const device = fusedOnDevice() && b > 0 && rows.every((r) => r.dtype === 'float32') && (!init || init.dtype === 'float32');
  if (!device) return tf.tidy(() => tf.addN([...(init ? [init] : []), ...rows.map((r) => perSampleSqNorm(r))]) as tf.Tensor1D);
  // one launch per chunk; each after the first reads the previous one's sums as its init
  const most = storageBindingsPerDispatch(MAX_BINDINGS);
  let acc: tf.Tensor1D | undefined = init;
  for (let i = 0; i < rows.length; ) {
    const take = Math.max(1, most - 1 - (acc ? 1 : 0));
    const chunk = rows.slice(i, i + take);
    i += take;
    const inputs: tf.NamedTensorMap = Object.fromEntries(chunk.map((r, k) => [`r${k}`, r]));
    if (acc) inputs['init'] = acc;
    const next = tf.engine().runKernel(SQ_KERNEL, inputs, { count: chunk.length }) as tf.Tensor1D;
    if (acc && acc !== init) acc.dispose();
    acc = next;
  }
  return acc!;
}

registerWebgpuKernel(SQ_KERNEL, ({ inputs, backend, attrs }) => {
  const count = attrs['count'] as number;
  const rows = Array.from({ length: count }, (_, k) => inputs[`r${k}`]!);
  const init = inputs['init'];
  const b = rows[0]!.shape[0]!;
  const out = (backend as unknown as Backend).makeTensorInfo([b], 'float32');
  const widths = rows.map((r) => r.shape[1]!);
  while (widths.length % 4) widths.push(0);
  dispatchDirect({
    key: `${SQ_KERNEL}_${count}_${init ? 1 : 0}`,
    code: () => rowSqNormSumWgsl(count, !!init),
    buffers: [{ tensor: out, write: true }, ...(init ? [{ tensor: init }] : []), ...rows.map((tensor) => ({ tensor }))],
    uniforms: packUniforms(widths.map((w) => ['u', w] as const)),
    workgroups: [b, 1, 1],
  });
  return out;
});

/** A workgroup a sample: each tensor's row read by the whole group in turn (coalesced), squared and summed; a tree reduction. */
function rowSqNormSumWgsl(count: number, withInit: boolean): string {
  const first = withInit ? 2 : 1;
  const reads = Array.from({ length: count }, (_, k) => `@group(0) @binding(${first + k}) var<storage, read> r${k} : array<f32>;`);
  const loops = Array.from(
    { length: count },
    (_, k) => `  { let n = u.n[${k >> 2}][${k & 3}]; let base = i * n;
    for (var j = lid; j < n; j = j + ${WG}u) { let v = r${k}[base + j]; acc = acc + v * v; } }`,
  );
  return /* wgsl */ `
struct U { n : array<vec4<u32>, ${Math.ceil(count / 4)}> };
@group(0) @binding(0) var<storage, read_write> out : array<f32>;
${withInit ? '@group(0) @binding(1) var<storage, read> init : array<f32>;' : ''}
${reads.join('\n')}
@group(0) @binding(${first + count}) var<uniform> u : U;
var<workgroup> red : array<f32, ${WG}>;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let lid = l.x;
  let i = wg.x;
  var acc = 0.0;
${loops.join('\n')}
  red[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[i] = red[0]${withInit ? ' + init[i]' : ''}; }
}
`;
}

/**
 * Σ_i c_i g_k[i, :] ([n_k]) for each per-sample gradient g_k [B, n_k]: the Book-Keeping clipped sums
 * of many small parameters from their per-sample gradients (c the clip factors, [B]). On webgpu one
 * launch writes as many sums as the device binds (15 on a 32-binding device: each takes an input and an
 * output binding), where each was a [1, B] × [B, n] matmul; elsewhere that matmul.
 *
 * @example
 * const [dGamma, dBeta] = weightedRowSums(clipFactors, [gGamma, gBeta]); // [d] each
 */
export function weightedRowSums(c: tf.Tensor1D, rows: readonly tf.Tensor2D[]): tf.Tensor1D[] {
  const b = checkRows('weightedRowSums', rows);
  if (c.rank !== 1 || c.shape[0] !== b) throw new RangeError(`weightedRowSums: the factors must be [${b}], got [${c.shape}]`);
  const device = fusedOnDevice() && b > 0 && c.dtype === 'float32' && rows.every((r) => r.dtype === 'float32' && r.shape[1]! > 0);
  if (!device) return rows.map((g) => tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(c, [1, b]), g), [g.shape[1]!]) as tf.Tensor1D));
  const per = Math.max(1, Math.floor((storageBindingsPerDispatch(MAX_BINDINGS) - 1) / 2));
  const out: tf.Tensor1D[] = [];
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const inputs: tf.NamedTensorMap = { c, ...Object.fromEntries(chunk.map((r, k) => [`r${k}`, r])) };
    out.push(...(tf.engine().runKernel(SUMS_KERNEL, inputs, { count: chunk.length }) as unknown as tf.Tensor1D[]));
  }
  return out;
}

registerWebgpuKernel(SUMS_KERNEL, ({ inputs, backend, attrs }) => {
  const count = attrs['count'] as number;
  const rows = Array.from({ length: count }, (_, k) => inputs[`r${k}`]!);
  const b = rows[0]!.shape[0]!;
  const outs = rows.map((r) => (backend as unknown as Backend).makeTensorInfo([r.shape[1]!], 'float32'));
  dispatchSlots({
    key: `${SUMS_KERNEL}_${count}`,
    source: () => ({
      bindings: [
        '@group(0) @binding(0) var<storage, read> c : array<f32>;',
        ...rows.map((_, k) => `@group(0) @binding(${1 + k}) var<storage, read> r${k} : array<f32>;`),
        ...rows.map((_, k) => `@group(0) @binding(${1 + count + k}) var<storage, read_write> o${k} : array<f32>;`),
      ].join('\n'),
      // column i of slot k: Σ_b c_b r_k[b, i], rows read across threads (coalesced)
      body: /* wgsl */ `
    let n = slot.n;
    var acc = 0.0;
    ${slotBranches(count, (k) => ` for (var b = 0u; b < uni.B; b = b + 1u) { acc = acc + c[b] * r${k}[b * n + i]; }\n      o${k}[i] = acc;`)}`,
    }),
    slotFields: [],
    sharedFields: ['B : u32'],
    sharedValues: [['u', b]],
    buffers: [{ tensor: inputs['c']! }, ...rows.map((tensor) => ({ tensor })), ...outs.map((tensor) => ({ tensor, write: true }))],
    slots: rows.map((r) => ({ items: r.shape[1]!, values: [] })),
    workgroupSize: WG,
    maxWorkgroups: 1024,
  });
  return outs as unknown as tf.TensorInfo;
});
