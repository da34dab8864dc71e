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
const PAIR_KERNEL = 'ClipwiseColumnSumPair';

type Backend = { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo; disposeData(id: unknown): void };

/**
 * The sums of one pass, as WGSL terms of row element `i` over the bound inputs `x` and `y`: the first
 * pass of `columnSum` is `x[i]` (or `x[i] * y[i]` with a factor), of the pair `x[i]` and `x[i] * y[i]`;
 * a fold pass adds partials, `x[i]` (and `y[i]`, the pair's second).
 */
type Terms = readonly string[];

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const { x, mul, weights } = inputs as Record<string, tf.TensorInfo | undefined>;
  const first = mul ? { inputs: [x!, mul], terms: ['x[i] * y[i]'] } : { inputs: [x!], terms: ['x[i]'] };
  return runSums(backend as unknown as Backend, x!.shape as [number, number, number], first, weights ?? null, (attrs as { perSample: boolean }).perSample)[0]!;
});

registerWebgpuKernel(PAIR_KERNEL, ({ inputs, backend, attrs }) => {
  const { x, mul, weights } = inputs as Record<string, tf.TensorInfo | undefined>;
  // x is read once for both sums
  const first = { inputs: [x!, mul!], terms: ['x[i]', 'x[i] * y[i]'] };
  return runSums(backend as unknown as Backend, x!.shape as [number, number, number], first, weights ?? null, (attrs as { perSample: boolean }).perSample) as unknown as tf.TensorInfo;
});

/**
 * Pass 1 folds [B, T, p] into [B·C, p] partials over chunks of 128 rows (factors applied), one per
 * term; later passes fold the partials (and, for [p], the samples) until one row per group is left.
 */
function runSums(be: Backend, [b, t, p]: [number, number, number], first: { inputs: tf.TensorInfo[]; terms: Terms }, weights: tf.TensorInfo | null, perSample: boolean): tf.TensorInfo[] {
  let groups = b;
  let chunks = Math.ceil(t / ROWS_PER_CHUNK);
  let current = runPass(be, first.inputs, first.terms, weights, groups, t, p, chunks);
  const fold = ['x[i]', 'y[i]'].slice(0, first.terms.length);
  let rows = chunks;
  if (!perSample) {
    rows = groups * chunks;
    groups = 1;
  }
  while (rows > 1) {
    chunks = Math.ceil(rows / ROWS_PER_CHUNK);
    const next = runPass(be, current, fold, null, groups, rows, p, chunks);
    for (const c of current) be.disposeData(c.dataId);
    current = next;
    rows = chunks;
  }
  return current;
}

function runPass(be: Backend, inputs: tf.TensorInfo[], terms: Terms, weights: tf.TensorInfo | null, groups: number, rows: number, p: number, chunks: number): tf.TensorInfo[] {
  const outs = terms.map(() => be.makeTensorInfo([groups * chunks, p], 'float32'));
  dispatchDirect({
    key: `clipwiseColumnSum_${inputs.length}_${terms.join(';')}_${weights !== null}`,
    code: () => columnSumWgsl(inputs.length, terms, weights !== null),
    buffers: [...outs.map((tensor) => ({ tensor, write: true })), ...inputs.map((tensor) => ({ tensor })), ...(weights ? [{ tensor: weights }] : [])],
    uniforms: packUniforms([rows, p, chunks, 0].map((v) => ['u', v] as const)),
    workgroups: [Math.ceil(p / 64), groups * chunks, 1],
  });
  return outs;
}

function columnSumWgsl(inputs: number, terms: Terms, weights: boolean): string {
  let binding = 0;
  const bind = (name: string, access: string) => `@group(0) @binding(${binding++}) var<storage, ${access}> ${name} : array<f32>;`;
  const n = terms.map((_, k) => k);
  return /* wgsl */ `
struct U { rows : u32, p : u32, chunks : u32, pad : u32 };
${n.map((k) => bind(`out${k}`, 'read_write')).join('\n')}
${['x', 'y'].slice(0, inputs).map((name) => bind(name, 'read')).join('\n')}
${weights ? bind('w', 'read') : ''}
@group(0) @binding(${binding}) var<uniform> u : U;
${n.map((k) => `var<workgroup> part${k} : array<f32, 256>;`).join('\n')}
@compute @workgroup_size(64, 4, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let col = wg.x * 64u + l.x;
  let g = wg.y / u.chunks;
  let chunk = wg.y % u.chunks;
  let begin = chunk * ${ROWS_PER_CHUNK}u;
  let end = min(u.rows, begin + ${ROWS_PER_CHUNK}u);
  ${n.map((k) => `var acc${k} = 0.0;`).join(' ')}
  if (col < u.p) {
    for (var r = begin + l.y; r < end; r = r + 4u) {
      let i = (g * u.rows + r) * u.p + col;
      ${n.map((k) => `acc${k} = acc${k} + ${terms[k]};`).join('\n      ')}
    }
  }
  ${n.map((k) => `part${k}[l.y * 64u + l.x] = acc${k};`).join('\n  ')}
  workgroupBarrier();
  if (l.y == 0u && col < u.p) {
    ${n.map((k) => `out${k}[wg.y * u.p + col] = (part${k}[l.x] + part${k}[64u + l.x] + part${k}[128u + l.x] + part${k}[192u + l.x])${weights ? ' * w[g]' : ''};`).join('\n    ')}
  }
}
`;
}
