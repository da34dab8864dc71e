import * as tf from '@tensorflow/tfjs-core';
import { runStridedMatmul, type MatmulView } from '../webgpu/matmul/matmul-kernel';
import { registerWebgpuKernel, type WebGpuBackendLike } from '../webgpu/webgpu-program';
import { fusedOnDevice, runRowProgram } from './fused-kernels';
import { maskedSoftmax, softmaxFromLseRowSpec, softmaxGradRowSpec, softmaxLseRowSpec } from './masked-softmax';

export interface AttentionOptions {
  readonly heads: number;
  /** Mask key j > query t (GPT-2). */
  readonly causal: boolean;
}

/** Multi-head attention as plain TF.js ops on q, k, v [B, T, d]: the reference, and the path off webgpu. */
export function attentionPlain(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, o: AttentionOptions): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, t, d] = q.shape;
    const hd = d / o.heads;
    const split = (x: tf.Tensor3D) => tf.transpose(tf.reshape(x, [b, t, o.heads, hd]), [0, 2, 1, 3]);
    const probs = maskedSoftmax(tf.matMul(split(q), split(k), false, true), { scale: 1 / Math.sqrt(hd), causal: o.causal });
    const ctx = tf.matMul(probs, split(v)); // [B, H, T, hd]
    return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, t, d]) as tf.Tensor3D;
  });
}

function check(shape: readonly number[], o: AttentionOptions, packed: boolean): { b: number; t: number; d: number } {
  const [b, t, w] = shape as [number, number, number];
  const d = packed ? w / 3 : w;
  if (shape.length !== 3 || !Number.isInteger(d) || !Number.isInteger(o.heads) || o.heads < 1 || d % o.heads !== 0) {
    throw new Error(`attention: ${packed ? 'qkv [B, T, 3d]' : 'q, k, v [B, T, d]'} with d divisible by ${o.heads} heads expected, got [${shape}]`);
  }
  return { b: b!, t: t!, d };
}

/**
 * softmax(QKᵀ/√hd + mask)·V per head, with q, k and v packed side by side in `qkv` [B, T, 3d]
 * (GPT-2's c_attn output). On webgpu each head's q, k and v are read in place and the context is
 * written in place into [B, T, d]: forward is two strided matmuls and two softmax row kernels (the
 * probabilities, and each row's log-normaliser, which is all backward keeps: B·H·T floats, not the
 * B·H·T·T probabilities, as PyTorch's fused attention does), backward recomputes the scores (a
 * matmul) and the probabilities (a row kernel), then four matmuls and one softmax-gradient kernel
 * write dq, dk, dv into one [B, T, 3d] gradient (the plain path: a split, five transposes, two
 * matmuls and a concat more, ~20 launches a layer).
 *
 * @example
 * const ctx = attentionPacked(qkv, { heads: 12, causal: true }); // [B, T, 768] from [B, T, 2304]
 */
export function attentionPacked(qkv: tf.Tensor3D, o: AttentionOptions): tf.Tensor3D {
  check(qkv.shape, o, true);
  if (!fusedOnDevice()) {
    return tf.tidy(() => {
      const [q, k, v] = tf.split(qkv, 3, 2) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      return attentionPlain(q, k, v, o);
    });
  }
  const f = tf.customGrad((...args: unknown[]) => {
    const x = args[0] as tf.Tensor3D;
    const save = args[1] as (ts: tf.Tensor[]) => void;
    const [y, lse] = tf.engine().runKernel(FORWARD, { q: x }, { ...o, packed: true } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    save([x, lse!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.engine().runKernel(BACKWARD, { dy, lse: saved[1]!, q: saved[0]! }, { ...o, packed: true } as unknown as tf.NamedAttrMap) as tf.Tensor],
    };
  });
  return (f as (t: tf.Tensor) => tf.Tensor3D)(qkv);
}

/**
 * The same for separate q, k, v [B, T, d] (ViT's query/key/value projections); the gradient is
 * (dq, dk, dv).
 *
 * @example
 * const ctx = attention(q, k, v, { heads: 12, causal: false });
 */
export function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, o: AttentionOptions): tf.Tensor3D {
  check(q.shape, o, false);
  if (k.shape.join() !== q.shape.join() || v.shape.join() !== q.shape.join()) throw new Error(`attention: q [${q.shape}], k [${k.shape}], v [${v.shape}] must have one shape`);
  if (!fusedOnDevice()) return attentionPlain(q, k, v, o);
  const f = tf.customGrad((...args: unknown[]) => {
    const [qi, ki, vi] = args as tf.Tensor3D[];
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const [y, lse] = tf.engine().runKernel(FORWARD, { q: qi!, k: ki!, v: vi! }, { ...o, packed: false } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    save([qi!, ki!, vi!, lse!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(BACKWARD, { dy, lse: saved[3]!, q: saved[0]!, k: saved[1]!, v: saved[2]! }, { ...o, packed: false } as unknown as tf.NamedAttrMap) as tf.Tensor[],
    };
  });
  return (f as (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor3D)(q, k, v);
}

const FORWARD = 'ClipwiseAttention';
const BACKWARD = 'ClipwiseAttentionGrad';

interface Backend extends WebGpuBackendLike {
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: unknown): void;
}

interface Attrs {
  heads: number;
  causal: boolean;
  packed: boolean;
}

/** Where q, k, v (and [B, T, d] tensors such as the context) sit, per head. */
function layout(inputs: tf.NamedTensorInfoMap, a: Attrs) {
  const q = inputs['q']!;
  const [b, t, w] = q.shape as [number, number, number];
  const d = a.packed ? w / 3 : w;
  const hd = d / a.heads;
  const stride = a.packed ? 3 * d : d;
  const view = (slot: number): MatmulView => ({ base: a.packed ? slot * d : 0, outer: t * stride, inner: hd, ld: stride });
  return {
    b,
    t,
    d,
    hd,
    q: { tensor: q, view: view(0) },
    k: { tensor: a.packed ? q : inputs['k']!, view: view(a.packed ? 1 : 0) },
    v: { tensor: a.packed ? q : inputs['v']!, view: view(a.packed ? 2 : 0) },
    /** [B, T, d] (context, its gradient) */
    ctx: { base: 0, outer: t * d, inner: hd, ld: d } satisfies MatmulView,
    /** [B, H, T, T] (scores, probabilities) */
    sq: { base: 0, outer: a.heads * t * t, inner: t * t, ld: t } satisfies MatmulView,
  };
}

/** QKᵀ per head, [B, H, T, T], read in place from where q and k sit. */
function attentionScores(be: Backend, L: ReturnType<typeof layout>, a: Attrs): tf.TensorInfo {
  const scores = be.makeTensorInfo([L.b, a.heads, L.t, L.t], 'float32');
  runStridedMatmul({ outer: L.b, heads: a.heads, a: L.q.tensor, b: L.k.tensor, out: scores, transposeA: false, transposeB: true, m: L.t, n: L.t, k: L.hd, viewA: L.q.view, viewB: L.k.view, viewC: L.sq });
  return scores;
}

registerWebgpuKernel(FORWARD, ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as Attrs;
  const be = backend as Backend;
  const L = layout(inputs, a);
  const { b, t, hd } = L;
  const scale = 1 / Math.sqrt(hd);
  const scores = attentionScores(be, L, a);
  const mm = { outer: b, heads: a.heads };
  const rows = b * a.heads * t;
  // the log-normaliser (what backward keeps), then the probabilities from it: the backward's own row
  // kernel, so both passes see identical probabilities and the scores are reduced once
  const lse = runRowProgram(be, softmaxLseRowSpec({ scale, causal: a.causal }), [scores], rows, t);
  const probs = runRowProgram(be, softmaxFromLseRowSpec({ scale, causal: a.causal }), [scores, lse], rows, t);
  be.disposeData(scores.dataId);
  const ctx = be.makeTensorInfo([b, t, L.d], 'float32');
  runStridedMatmul({ ...mm, a: probs, b: L.v.tensor, out: ctx, transposeA: false, transposeB: false, m: t, n: hd, k: t, viewA: L.sq, viewB: L.v.view, viewC: L.ctx });
  be.disposeData(probs.dataId);
  return [ctx, lse] as unknown as tf.TensorInfo;
});

registerWebgpuKernel(BACKWARD, ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as Attrs;
  const be = backend as Backend;
  const L = layout(inputs, a);
  const { b, t, d, hd } = L;
  const dy = inputs['dy']!;
  const mm = { outer: b, heads: a.heads };
  const rows = b * a.heads * t;
  const scale = 1 / Math.sqrt(hd);
  // the probabilities again: scores (one matmul) and exp(scale·s − lse) (one row kernel)
  const scores = attentionScores(be, L, a);
  const p = runRowProgram(be, softmaxFromLseRowSpec({ scale, causal: a.causal }), [scores, inputs['lse']!], rows, t);
  be.disposeData(scores.dataId);
  const dp = be.makeTensorInfo([b, a.heads, t, t], 'float32');
  runStridedMatmul({ ...mm, a: dy, b: L.v.tensor, out: dp, transposeA: false, transposeB: true, m: t, n: t, k: hd, viewA: L.ctx, viewB: L.v.view, viewC: L.sq });
  const ds = runRowProgram(be, softmaxGradRowSpec(scale), [p, dp], rows, t);
  be.disposeData(dp.dataId);
  // dq = ds·k, dk = dsᵀ·q, dv = pᵀ·dy: written where q, k and v sit (one [B, T, 3d] gradient when packed)
  const outs = a.packed ? [be.makeTensorInfo([b, t, 3 * d], 'float32')] : [0, 1, 2].map(() => be.makeTensorInfo([b, t, d], 'float32'));
  const target = (slot: number) => (a.packed ? { tensor: outs[0]!, view: { base: slot * d, outer: t * 3 * d, inner: hd, ld: 3 * d } } : { tensor: outs[slot]!, view: L.ctx });
  const dq = target(0);
  const dk = target(1);
  const dv = target(2);
  runStridedMatmul({ ...mm, a: ds, b: L.k.tensor, out: dq.tensor, transposeA: false, transposeB: false, m: t, n: hd, k: t, viewA: L.sq, viewB: L.k.view, viewC: dq.view });
  runStridedMatmul({ ...mm, a: ds, b: L.q.tensor, out: dk.tensor, transposeA: true, transposeB: false, m: t, n: hd, k: t, viewA: L.sq, viewB: L.q.view, viewC: dk.view });
  runStridedMatmul({ ...mm, a: p, b: dy, out: dv.tensor, transposeA: true, transposeB: false, m: t, n: hd, k: t, viewA: L.sq, viewB: L.ctx, viewC: dv.view });
  be.disposeData(ds.dataId);
  be.disposeData(p.dataId);
  return (a.packed ? outs[0]! : outs) as unknown as tf.TensorInfo;
});
