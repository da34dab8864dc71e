import * as tf from '@tensorflow/tfjs-core';
import { dispatchDirect, packUniforms } from '../webgpu/direct-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';

export interface ColumnSumOptions {
  /** Multiplies x elementwise first (same shape as x): Σ_t dy ⊙ x̂ of a layer norm's γ. */
  readonly mul?: tf.Tensor;
  /** One factor per sample ([B]) applied before summing over samples: Book-Keeping's Σ_i c_i (·). */
  readonly weights?: tf.Tensor1D;
  /** Keep the sample axis: [B, p] (per-sample gradients), else sum it too: [p]. Default false. */
  readonly perSample?: boolean;
}

/** Rows a workgroup folds in one pass (4 lanes × 32). */
const ROWS_PER_CHUNK = 128;

/**
 * Sums a [B, T, p] tensor over T (and over B unless `perSample`), with an optional elementwise
 * factor and per-sample weights folded in: the bias and layer-norm parts of per-sample norms and of
 * clipped sums. On webgpu one WGSL pass per 128 rows (coalesced column reads, 4 lanes a column);
 * TF.js's Sum took ~50–90 µs of device time per call on GPT-2/ViT records, and the weights and factor
 * each cost a multiply of the whole tensor. Elsewhere the same maths as TF.js ops (the reference).
 *
 * @example
 * columnSum(dy, { perSample: true }); // [B, p]: Σ_t dy_it, a linear bias's per-sample gradient
 * columnSum(dy, { weights: c });     // [p]: Σ_i c_i Σ_t dy_it, its clipped sum
 */
export function columnSum(x: tf.Tensor3D, o: ColumnSumOptions = {}): tf.Tensor {
  const [b, t, p] = x.shape;
  if (o.mul && o.mul.shape.join(',') !== x.shape.join(',')) throw new Error(`columnSum: mul [${o.mul.shape}] must have x's shape [${x.shape}]`);
  if (o.weights && (o.weights.rank !== 1 || o.weights.size !== b)) throw new Error(`columnSum: weights [${o.weights.shape}] must be [${b}]`);
  if (!fusedOnDevice() || x.dtype !== 'float32') {
    return tf.tidy(() => {
      let v: tf.Tensor = o.mul ? tf.mul(x, o.mul) : x;
      if (o.weights) v = tf.mul(v, tf.reshape(o.weights, [b, 1, 1]));
      return tf.sum(v, o.perSample ? 1 : [0, 1]);
    });
  }
  const inputs: Record<string, tf.Tensor> = { x };
  if (o.mul) inputs['mul'] = o.mul;
  if (o.weights) inputs['weights'] = o.weights;
  const out = tf.engine().runKernel(KERNEL, inputs as tf.NamedTensorMap, { perSample: o.perSample === true } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const shaped = tf.reshape(out, o.perSample ? [b, p] : [p]);
  out.dispose();
  return shaped;
}

/**
 * Both sums a layer norm needs, of the same [B, T, p] gradient: Σ dy (β's) and Σ dy ⊙ mul (γ's),
 * with the same options as `columnSum` (per-sample weights, `perSample`). On webgpu one pass computes
 * both (and each fold pass folds both), where two `columnSum` calls were two launches a pass: a layer
 * norm's gradient or clipped sum in 2 launches instead of 4 at GPT-2's shapes. Elsewhere two `columnSum`s.
 *
 * @example
 * const [beta, gamma] = columnSumPair(dy, xhat, { weights: c }); // [p] each: Σ_i c_i Σ_t dy, Σ_i c_i Σ_t dy ⊙ x̂
 */
export function columnSumPair(x: tf.Tensor3D, mul: tf.Tensor, o: Omit<ColumnSumOptions, 'mul'> = {}): [tf.Tensor, tf.Tensor] {
  const [b, , p] = x.shape;
  if (mul.shape.join(',') !== x.shape.join(',')) throw new Error(`columnSumPair: mul [${mul.shape}] must have x's shape [${x.shape}]`);
  if (o.weights && (o.weights.rank !== 1 || o.weights.size !== b)) throw new Error(`columnSumPair: weights [${o.weights.shape}] must be [${b}]`);
  if (!fusedOnDevice() || x.dtype !== 'float32' || mul.dtype !== 'float32') return [columnSum(x, o), columnSum(x, { ...o, mul })];
  const inputs: Record<string, tf.Tensor> = { x, mul };
  if (o.weights) inputs['weights'] = o.weights;
  const outs = tf.engine().runKernel(PAIR_KERNEL, inputs as tf.NamedTensorMap, { perSample: o.perSample === true } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return outs.map((out) => {
    const shaped = tf.reshape(out, o.perSample ? [b, p] : [p]);
    out.dispose();
    return shaped;
  }) as [tf.Tensor, tf.Tensor];
}

const KERNEL = 'ClipwiseColumnSum';

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { x, mul, weights } = inputs as Record<string, tf.TensorInfo | undefined>;
  const [b, t, p] = x!.shape as [number, number, number];
  const be = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo; disposeData(id: unknown): void };
  // pass 1: [B, T, p] → [B·C, p] partial sums over chunks of rows, factors applied
  let groups = b;
  let chunks = Math.ceil(t / ROWS_PER_CHUNK);
  let current = runPass(be, x!, mul ?? null, weights ?? null, groups, t, p, chunks);
  // later passes fold the chunk partials (and, for [p], the samples) until one row per group is left
  let rows = chunks;
  if (!(attrs as { perSample: boolean }).perSample) {
    rows = groups * chunks;
    groups = 1;
  }
  while (rows > 1) {
    chunks = Math.ceil(rows / ROWS_PER_CHUNK);
    const next = runPass(be, current, null, null, groups, rows, p, chunks);
    be.disposeData(current.dataId);
    current = next;
    rows = chunks;
  }
  return current;
});

const PAIR_KERNEL = 'ClipwiseColumnSumPair';

registerWebgpuKernel(PAIR_KERNEL, ({ inputs, backend, attrs }) => {
  const { x, mul, weights } = inputs as Record<string, tf.TensorInfo | undefined>;
  const [b, t, p] = x!.shape as [number, number, number];
  const be = backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo; disposeData(id: unknown): void };
  let groups = b;
  let chunks = Math.ceil(t / ROWS_PER_CHUNK);
  // pass 1 reads x once for both sums (the second multiplied by mul); later passes fold both partials
  let current = runPairPass(be, [x!, mul!], 'mul', weights ?? null, groups, t, p, chunks);
  let rows = chunks;
  if (!(attrs as { perSample: boolean }).perSample) {
    rows = groups * chunks;
    groups = 1;
  }
  while (rows > 1) {
    chunks = Math.ceil(rows / ROWS_PER_CHUNK);
    const next = runPairPass(be, current, 'fold', null, groups, rows, p, chunks);
    for (const c of current) be.disposeData(c.dataId);
    current = next;
    rows = chunks;
  }
  return current as unknown as tf.TensorInfo;
});

/** One pass of the pair: 'mul' sums x and x ⊙ m; 'fold' sums two partials side by side. */
function runPairPass(
  backend: { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo },
  [x, second]: tf.TensorInfo[],
  mode: 'mul' | 'fold',
  weights: tf.TensorInfo | null,
  groups: number,
  rows: number,
  p: number,
  chunks: number,
): [tf.TensorInfo, tf.TensorInfo] {
  const out = backend.makeTensorInfo([groups * chunks, p], 'float32');
  const out2 = backend.makeTensorInfo([groups * chunks, p], 'float32');
  dispatchDirect({
    key: `clipwiseColumnSumPair_${mode}_${weights !== null}`,
    code: () => columnSumPairWgsl(mode, weights !== null),
    buffers: [{ tensor: out, write: true }, { tensor: out2, write: true }, { tensor: x! }, { tensor: second! }, ...(weights ? [{ tensor: weights }] : [])],
    uniforms: packUniforms([rows, p, chunks, 0].map((v) => ['u', v] as const)),
    workgroups: [Math.ceil(p / 64), groups * chunks, 1],
  });
  return [out, out2];
}

function columnSumPairWgsl(mode: 'mul' | 'fold', weights: boolean): string {
  return /* wgsl */ `
struct U { rows : u32, p : u32, chunks : u32, pad : u32 };
@group(0) @binding(0) var<storage, read_write> out : array<f32>;
@group(0) @binding(1) var<storage, read_write> out2 : array<f32>;
@group(0) @binding(2) var<storage, read> x : array<f32>;
@group(0) @binding(3) var<storage, read> y : array<f32>;
${weights ? '@group(0) @binding(4) var<storage, read> w : array<f32>;' : ''}
@group(0) @binding(${weights ? 5 : 4}) var<uniform> u : U;
var<workgroup> part : array<f32, 256>;
var<workgroup> part2 : array<f32, 256>;
@compute @workgroup_size(64, 4, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let col = wg.x * 64u + l.x;
  let g = wg.y / u.chunks;
  let chunk = wg.y % u.chunks;
  let begin = chunk * ${ROWS_PER_CHUNK}u;
  let end = min(u.rows, begin + ${ROWS_PER_CHUNK}u);
  var acc = 0.0;
  var acc2 = 0.0;
  if (col < u.p) {
    for (var r = begin + l.y; r < end; r = r + 4u) {
      let i = (g * u.rows + r) * u.p + col;
      let v = x[i];
      acc = acc + v;
      acc2 = acc2 + ${mode === 'mul' ? 'v * y[i]' : 'y[i]'};
    }
  }
  part[l.y * 64u + l.x] = acc;
  part2[l.y * 64u + l.x] = acc2;
  workgroupBarrier();
  if (l.y == 0u && col < u.p) {
    let s = part[l.x] + part[64u + l.x] + part[128u + l.x] + part[192u + l.x];
    let s2 = part2[l.x] + part2[64u + l.x] + part2[128u + l.x] + part2[192u + l.x];
    out[wg.y * u.p + col] = s${weights ? ' * w[g]' : ''};
    out2[wg.y * u.p + col] = s2${weights ? ' * w[g]' : ''};
  }
}
`;
}

function runPass(
  backend: { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo },
  x: tf.TensorInfo,
  mul: tf.TensorInfo | null,
  weights: tf.TensorInfo | null,
  groups: number,
  rows: number,
  p: number,
  chunks: number,
): tf.TensorInfo {
  const out = backend.makeTensorInfo([groups * chunks, p], 'float32');
  const key = `clipwiseColumnSum_${mul !== null}_${weights !== null}`;
  dispatchDirect({
    key,
    code: () => columnSumWgsl(mul !== null, weights !== null),
    buffers: [{ tensor: out, write: true }, { tensor: x }, ...(mul ? [{ tensor: mul }] : []), ...(weights ? [{ tensor: weights }] : [])],
    uniforms: packUniforms([rows, p, chunks, 0].map((v) => ['u', v] as const)),
    workgroups: [Math.ceil(p / 64), groups * chunks, 1],
  });
  return out;
}

function columnSumWgsl(mul: boolean, weights: boolean): string {
  let binding = 2;
  const bind = (name: string) => `@group(0) @binding(${binding++}) var<storage, read> ${name} : array<f32>;`;
  return /* wgsl */ `
struct U { rows : u32, p : u32, chunks : u32, pad : u32 };
@group(0) @binding(0) var<storage, read_write> out : array<f32>;
@group(0) @binding(1) var<storage, read> x : array<f32>;
${mul ? bind('m') : ''}
${weights ? bind('w') : ''}
@group(0) @binding(${binding}) var<uniform> u : U;
var<workgroup> part : array<f32, 256>;
@compute @workgroup_size(64, 4, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let col = wg.x * 64u + l.x;
  let g = wg.y / u.chunks;
  let chunk = wg.y % u.chunks;
  let begin = chunk * ${ROWS_PER_CHUNK}u;
  let end = min(u.rows, begin + ${ROWS_PER_CHUNK}u);
  var acc = 0.0;
  if (col < u.p) {
    for (var r = begin + l.y; r < end; r = r + 4u) {
      let i = (g * u.rows + r) * u.p + col;
      acc = acc + x[i]${mul ? ' * m[i]' : ''};
    }
  }
  part[l.y * 64u + l.x] = acc;
  workgroupBarrier();
  if (l.y == 0u && col < u.p) {
    let s = part[l.x] + part[64u + l.x] + part[128u + l.x] + part[192u + l.x];
    out[wg.y * u.p + col] = s${weights ? ' * w[g]' : ''};
  }
}
`;
}
