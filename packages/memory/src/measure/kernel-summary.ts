import type * as tf from '@tensorflow/tfjs-core';

// what `tf.profile` resolves to (tfjs-core exports the type only through the engine's signature)
type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;

/**
 * Profile entries that launch nothing: reshapes (ExpandDims is one) and identities only relabel a
 * buffer, and `tf.profile` also lists op scopes (`…__op`, `unnamed scope`) beside the kernels they ran.
 */
const NOT_LAUNCHES = /^(Reshape|ExpandDims|Identity|unnamed scope)$|__op$/;

/** One kernel name's share of a profiled step; matmuls are split by their input shapes. */
export interface KernelRow {
  readonly kernel: string;
  readonly launches: number;
  /** Device time in ms (webgpu: timestamp queries), null where the backend gave none. */
  readonly ms: number | null;
}

export interface KernelSummary {
  /** Every `tf.profile` entry of the step. */
  readonly entries: number;
  /** Entries that run a kernel (all but reshapes, identities and scopes). */
  readonly launches: number;
  /** Summed kernel time in ms, null when no kernel was timed. */
  readonly kernelMs: number | null;
  /** By kernel, most time first (then most launches). */
  readonly rows: readonly KernelRow[];
  /** Floating-point operations of the matmul kernels (BatchMatMul, _FusedMatMul, Clipwise's clipped outer sums), in GFLOP. */
  readonly matmulGflop: number;
  /** Their device time in ms, null when untimed: matmulGflop / matmulMs is the achieved TFLOP/s. */
  readonly matmulMs: number | null;
}

const MATMUL = /^(BatchMatMul|_FusedMatMul|ClipwiseClippedOuterSum)$/;

/** 2·|C|·K of a product from its profile entry: C's shape [..., M, N] and A's last two dims ([M, K] or, transposed, [K, M]). */
export function matmulFlops(inputShapes: readonly (readonly number[] | null)[], outputShape: readonly number[]): number {
  const a = inputShapes[0];
  if (!a || a.length < 2 || outputShape.length < 2) return 0;
  const m = outputShape[outputShape.length - 2]!;
  const [x, y] = [a[a.length - 2]!, a[a.length - 1]!];
  const k = x === m ? y : x;
  return 2 * outputShape.reduce((p, d) => p * d, 1) * k;
}

/**
 * Aggregates the kernels of a `tf.profile` run: launches and device time per kernel name. On
 * webgpu the launch count, not the flops, bounds a small step (each launch costs tens of µs of CPU),
 * so the bench reports both.
 *
 * @example
 * const info = await tf.profile(() => step());
 * const { launches, kernelMs, rows } = await summariseKernels(info.kernels);
 */
export async function summariseKernels(kernels: ProfileInfo['kernels']): Promise<KernelSummary> {
  const byName = new Map<string, { launches: number; ms: number; timed: boolean }>();
  let launches = 0;
  let timed = false;
  let matmulGflop = 0;
  let matmulMs: number | null = null;
  for (const k of kernels) {
    if (NOT_LAUNCHES.test(k.name)) continue;
    launches++;
    const t = (await (k.kernelTimeMs as unknown as Promise<number | { error: string }>)) as number | { error: string };
    const ms = typeof t === 'number' && Number.isFinite(t) ? t : null;
    if (MATMUL.test(k.name)) {
      matmulGflop += matmulFlops(k.inputShapes as (number[] | null)[], (k.outputShapes as number[][])[0] ?? []) / 1e9;
      if (ms !== null) matmulMs = (matmulMs ?? 0) + ms;
    }
    const key = /MatMul/.test(k.name) ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
    const row = byName.get(key) ?? { launches: 0, ms: 0, timed: false };
    row.launches++;
    if (ms !== null) {
      row.ms += ms;
      row.timed = timed = true;
    }
    byName.set(key, row);
  }
  const rows = [...byName].map(([kernel, r]) => ({ kernel, launches: r.launches, ms: r.timed ? r.ms : null }));
  rows.sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0) || b.launches - a.launches);
  return { entries: kernels.length, launches, kernelMs: timed ? rows.reduce((s, r) => s + (r.ms ?? 0), 0) : null, rows, matmulGflop, matmulMs };
}
