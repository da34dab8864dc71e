import * as tf from '@tensorflow/tfjs-core';
import { clipFactorWgsl } from '../webgpu/clip-factor-wgsl';
import { dispatchDirect, packUniforms, storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { dispatchSlots, slotBranches } from '../webgpu/slot-dispatch';
import { registerWebgpuKernel } from '../webgpu/webgpu-program';
import { fusedOnDevice } from './fused-kernels';
import { perSampleSqNorm } from './per-sample-dot';

const SQ_KERNEL = 'ClipwiseSampleTermSum';
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
 * A per-sample term of a squared norm: `value` [B] as it is; `sum` [B, n] summed over each row (partial
 * sums, e.g. a ghost norm's tile partials: `ghostSqNormPartials`); `sq` [B, n] squared and summed over
 * each row (per-sample gradients: a layer norm's, a bias's); `colsq` [B, T, p]: Σ_j (Σ_t dy_itj·x_itj)²,
 * the squared norm of column sums formed on the fly (a bias's or layer norm β's from dy; γ's with
 * `mul` = x̂), the [B, p] per-sample gradients never written.
 */
export type SampleTerm =
  | { readonly kind: 'value'; readonly tensor: tf.Tensor1D }
  | { readonly kind: 'sum' | 'sq'; readonly tensor: tf.Tensor2D }
  | { readonly kind: 'colsq'; readonly tensor: tf.Tensor3D; readonly mul?: tf.Tensor3D };

/** The clip factors `sampleTermsClipFactors` forms: c = C / max(n, C) (Abadi), or C / (n + γ) (automatic). */
export interface ClipEpilogue {
  readonly threshold: number;
  readonly automatic: boolean;
  /** Automatic clipping's stability constant γ (unused by Abadi's). */
  readonly gamma: number;
}

const RANK: Record<SampleTerm['kind'], number> = { value: 1, sum: 2, sq: 2, colsq: 3 };
const SHAPE: Record<SampleTerm['kind'], string> = { value: 'B', sum: 'B, n', sq: 'B, n', colsq: 'B, T, p' };

function checkTerms(name: string, terms: readonly SampleTerm[]): number {
  if (terms.length === 0) throw new RangeError(`${name}: no terms`);
  const b = terms[0]!.tensor.shape[0]!;
  for (const t of terms) {
    if (t.tensor.rank !== RANK[t.kind] || t.tensor.shape[0] !== b) {
      throw new RangeError(`${name}: a '${t.kind}' term must be [${SHAPE[t.kind]}] with B = ${b}, got [${t.tensor.shape}]`);
    }
    if (t.kind === 'colsq' && t.mul && t.mul.shape.join(',') !== t.tensor.shape.join(',')) {
      throw new RangeError(`${name}: a 'colsq' term's mul [${t.mul.shape}] must have its tensor's shape [${t.tensor.shape}]`);
    }
  }
  return b;
}

/** Storage bindings a term takes. */
const bindingsOf = (t: SampleTerm) => (t.kind === 'colsq' && t.mul ? 2 : 1);

/**
 * Σ of per-sample terms ([B]): a group's squared norm from its parameters' terms in whatever form each
 * comes. On webgpu one launch reads as many terms as the device binds (a workgroup a sample), where
 * each row sum, each norm and their sum were launches of their own; elsewhere TF.js ops.
 *
 * @example
 * const sq = sumSampleTerms([{ kind: 'sum', tensor: partials }, { kind: 'sq', tensor: gBias }]); // [B]
 */
export function sumSampleTerms(terms: readonly SampleTerm[]): tf.Tensor1D {
  return runTerms('sumSampleTerms', terms, null)[0]!;
}

/**
 * Per-sample norms n = sqrt(Σ terms) and clip factors c ([B] each) in the same launch as the sum (the
 * private step's group close: optim's `normsAndClipFactors`). Both are new tensors; the terms stay the caller's.
 *
 * @example
 * const { norms, factors } = sampleTermsClipFactors(terms, { threshold: 1, automatic: false, gamma: 0 });
 */
export function sampleTermsClipFactors(terms: readonly SampleTerm[], clip: ClipEpilogue): { norms: tf.Tensor1D; factors: tf.Tensor1D } {
  const [norms, factors] = runTerms('sampleTermsClipFactors', terms, clip);
  return { norms: norms!, factors: factors! };
}

/** One term's [B] contribution in TF.js ops (inside a tidy). */
function termInOps(t: SampleTerm): tf.Tensor1D {
  if (t.kind === 'value') return t.tensor;
  if (t.kind === 'colsq') return tf.sum(tf.square(tf.sum(t.mul ? tf.mul(t.tensor, t.mul) : t.tensor, 1)), 1) as tf.Tensor1D;
  return tf.sum(t.kind === 'sq' ? tf.square(t.tensor) : t.tensor, 1) as tf.Tensor1D;
}

function runTerms(name: string, terms: readonly SampleTerm[], clip: ClipEpilogue | null): tf.Tensor1D[] {
  const b = checkTerms(name, terms);
  if (!(fusedOnDevice() && b > 0 && terms.every((t) => t.tensor.dtype === 'float32' && (t.kind !== 'colsq' || !t.mul || t.mul.dtype === 'float32')))) {
    return tf.tidy(() => {
      const parts = terms.map(termInOps);
      const sum = (parts.length === 1 ? tf.clone(parts[0]!) : tf.addN(parts)) as tf.Tensor1D;
      if (!clip) return [sum];
      const norms = tf.sqrt(sum) as tf.Tensor1D;
      const factors = (clip.automatic ? tf.div(clip.threshold, tf.add(norms, clip.gamma)) : tf.div(clip.threshold, tf.maximum(norms, clip.threshold))) as tf.Tensor1D;
      return [norms, factors];
    });
  }
  // as many terms a launch as the device binds beside the outputs; earlier chunks fold into a [B] value
  const most = storageBindingsPerDispatch(MAX_BINDINGS);
  const outputs = clip ? 2 : 1;
  const bindings = (ts: readonly SampleTerm[]) => ts.reduce((n, t) => n + bindingsOf(t), 0);
  let rest = [...terms];
  const folded: tf.Tensor[] = [];
  while (bindings(rest) > most - outputs) {
    // the longest prefix that fits beside one output
    let take = 0;
    for (let used = 0; take < rest.length && used + bindingsOf(rest[take]!) <= most - 1; take++) used += bindingsOf(rest[take]!);
    const value = launchTerms(rest.slice(0, take), null)[0]!;
    folded.push(value);
    rest = [{ kind: 'value', tensor: value }, ...rest.slice(take)];
  }
  const out = launchTerms(rest, clip);
  tf.dispose(folded);
  return out;
}

/** Workgroups a launch should fill the GPU with (two a multiprocessor of an H100/H200). */
const TARGET_WORKGROUPS = 264;
/** Threads of a chunked launch's workgroup, and the narrowest column chunk worth one. */
const CHUNK_WG = 64;

/**
 * Column chunks per sample: 1 (a workgroup a sample) where the batch fills the GPU, else enough to
 * (B·chunks ≈ TARGET_WORKGROUPS), each at least CHUNK_WG columns of the widest term. A layer norm's
 * terms at B = 16 or 32 ran on 16 or 32 workgroups (ViT-B/16's 28 launches of them: 3.3 ms of
 * layer-wise's step on an H100, at a sixth of the memory bandwidth).
 */
export function sampleTermChunks(b: number, terms: readonly SampleTerm[]): number {
  if (b >= TARGET_WORKGROUPS / 2) return 1;
  const widest = Math.max(...terms.map((t) => (t.kind === 'value' ? 1 : t.tensor.shape[t.tensor.rank - 1]!)));
  return Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / b), Math.ceil(widest / CHUNK_WG)));
}

function launchTerms(terms: readonly SampleTerm[], clip: ClipEpilogue | null): tf.Tensor1D[] {
  const inputs: tf.NamedTensorMap = {};
  terms.forEach((t, k) => {
    inputs[`t${k}`] = t.tensor;
    if (t.kind === 'colsq' && t.mul) inputs[`m${k}`] = t.mul;
  });
  const kinds = terms.map((t) => (t.kind === 'colsq' && t.mul ? 'colsqx' : t.kind));
  const clipAttr = clip ? [clip.threshold, clip.gamma, clip.automatic ? 1 : 0] : [];
  const chunks = sampleTermChunks(terms[0]!.tensor.shape[0]!, terms);
  if (chunks > 1) {
    // each sample's columns in chunks over more workgroups ([B, chunks] partial sums), then their sum
    // (and the clip epilogue) in a second launch
    const partials = tf.engine().runKernel(SQ_KERNEL, inputs, { kinds: kinds.join(','), clip: [], chunks } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
    const out = tf.engine().runKernel(SQ_KERNEL, { t0: partials }, { kinds: 'sum', clip: clipAttr, chunks: 1 } as unknown as tf.NamedAttrMap) as tf.Tensor1D | tf.Tensor1D[];
    partials.dispose();
    return Array.isArray(out) ? out : [out];
  }
  const out = tf.engine().runKernel(SQ_KERNEL, inputs, { kinds: kinds.join(','), clip: clipAttr, chunks: 1 } as unknown as tf.NamedAttrMap) as tf.Tensor1D | tf.Tensor1D[];
  return Array.isArray(out) ? out : [out];
}

/** A term's kind in the kernel: `colsqx` is a `colsq` with `mul`. */
type KernelKind = SampleTerm['kind'] | 'colsqx';

registerWebgpuKernel(SQ_KERNEL, ({ inputs, backend, attrs }) => {
  const kinds = (attrs['kinds'] as string).split(',') as KernelKind[];
  const clip = attrs['clip'] as number[];
  const chunks = (attrs['chunks'] as number | undefined) ?? 1;
  if (chunks > 1 && clip.length) throw new Error(`${SQ_KERNEL}: a chunked launch writes partial sums, not clip factors`);
  const terms = kinds.map((_, k) => inputs[`t${k}`]!);
  const b = terms[0]!.shape[0]!;
  const be = backend as unknown as Backend;
  const outs = (clip.length ? [0, 1] : [0]).map(() => be.makeTensorInfo(chunks > 1 ? [b, chunks] : [b], 'float32'));
  // per term: its row width n and its rows per sample T (1 but for colsq)
  const dims = terms.flatMap((t) => (t.shape.length === 3 ? [t.shape[2]!, t.shape[1]!] : [t.shape.length === 2 ? t.shape[1]! : 1, 1]));
  while (dims.length % 4) dims.push(0);
  const [threshold, gamma, automatic] = clip.length ? clip : [0, 0, 0];
  const buffers = kinds.flatMap((kind, k) => [{ tensor: terms[k]! }, ...(kind === 'colsqx' ? [{ tensor: inputs[`m${k}`]! }] : [])]);
  dispatchDirect({
    key: `${SQ_KERNEL}_${kinds.join('.')}_${clip.length ? (automatic ? 'auto' : 'abadi') : 'sum'}${chunks > 1 ? '_chunked' : ''}`,
    code: () => sampleTermsWgsl(kinds, clip.length ? (automatic ? 'automatic' : 'abadi') : null, chunks > 1),
    buffers: [...outs.map((tensor) => ({ tensor, write: true })), ...buffers],
    uniforms: packUniforms([['f', threshold!], ['f', gamma!], ['u', chunks], ['u', 0], ...dims.map((w) => ['u', w] as const)]),
    workgroups: [b, chunks, 1],
  });
  return (clip.length ? outs : outs[0]!) as unknown as tf.TensorInfo;
});

/**
 * A workgroup a sample: each term read by the whole group in turn (coalesced along its rows): summed,
 * squared and summed, or (colsq) each column summed over T by its thread, then squared; a tree
 * reduction; the clip epilogue on thread 0. `chunked`: a workgroup a (sample, column chunk), each
 * term's columns cut in u.chunks even ranges (values added by chunk 0), writing partial sums [B, chunks].
 */
function sampleTermsWgsl(kinds: readonly KernelKind[], clip: 'abadi' | 'automatic' | null, chunked = false): string {
  const wg = chunked ? CHUNK_WG : WG;
  // the columns [lo, hi) of this workgroup's chunk of a term `n` wide
  const range = (n: string) => (chunked ? `let span = (${n} + u.chunks - 1u) / u.chunks; let lo = c * span; let hi = min(${n}, lo + span);` : `let lo = 0u; let hi = ${n};`);
  const first = clip ? 2 : 1;
  let binding = first;
  const reads: string[] = [];
  const loops = kinds.map((kind, k) => {
    reads.push(`@group(0) @binding(${binding++}) var<storage, read> t${k} : array<f32>;`);
    if (kind === 'colsqx') reads.push(`@group(0) @binding(${binding++}) var<storage, read> m${k} : array<f32>;`);
    const n = `u.d[${(2 * k) >> 2}][${(2 * k) & 3}]`;
    const rows = `u.d[${(2 * k + 1) >> 2}][${(2 * k + 1) & 3}]`;
    // (its width, 1, read so that the uniform block stays bound when every term is a value: layouts are 'auto')
    if (kind === 'value') return `  if (lid == 0u && c == 0u && ${n} == 1u) { acc = acc + t${k}[i]; }`;
    if (kind === 'colsq' || kind === 'colsqx') {
      const v = kind === 'colsqx' ? `t${k}[e] * m${k}[e]` : `t${k}[e]`;
      return `  { let p = ${n}; let rows = ${rows}; let base = i * rows * p; ${range('p')}
    for (var j = lo + lid; j < hi; j = j + ${wg}u) {
      var s = 0.0;
      for (var t = 0u; t < rows; t = t + 1u) { let e = base + t * p + j; s = s + ${v}; }
      acc = acc + s * s;
    } }`;
    }
    const v = kind === 'sq' ? 'v * v' : 'v';
    return `  { let n = ${n}; let base = i * n; ${range('n')}
    for (var j = lo + lid; j < hi; j = j + ${wg}u) { let v = t${k}[base + j]; acc = acc + ${v}; } }`;
  });
  const epilogue = clip
    ? `let norm = sqrt(red[0]);
    norms[i] = norm;
    factors[i] = ${clipFactorWgsl(clip === 'automatic', 'norm', 'u.threshold', 'u.gamma')};`
    : chunked ? 'out[i * u.chunks + c] = red[0];' : 'out[i] = red[0];';
  return /* wgsl */ `
struct U { threshold : f32, gamma : f32, chunks : u32, pad1 : u32, d : array<vec4<u32>, ${Math.ceil((2 * kinds.length) / 4)}> };
${clip ? '@group(0) @binding(0) var<storage, read_write> norms : array<f32>;\n@group(0) @binding(1) var<storage, read_write> factors : array<f32>;' : '@group(0) @binding(0) var<storage, read_write> out : array<f32>;'}
${reads.join('\n')}
@group(0) @binding(${binding}) var<uniform> u : U;
var<workgroup> red : array<f32, ${wg}>;

@compute @workgroup_size(${wg}, 1, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let lid = l.x;
  let i = wg.x;
  let c = wg.y;
  var acc = 0.0;
${loops.join('\n')}
  red[lid] = acc;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    ${epilogue}
  }
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
