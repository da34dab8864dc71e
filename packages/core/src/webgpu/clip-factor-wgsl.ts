import { envSwitch } from '../env-switch';

/** A clip factor in WGSL from the expressions of a norm, its threshold C and γ: C / max(n, C) (Abadi) or C / (n + γ) (automatic). */
export function clipFactorWgsl(automatic: boolean, norm: string, threshold: string, gamma: string): string {
  return automatic ? `${threshold} / (${norm} + ${gamma})` : `${threshold} / max(${norm}, ${threshold})`;
}

const parallel = envSwitch('CLIPWISE_PARALLEL_CLIP_FACTORS', true);

/**
 * Whether the kernels that form clip factors themselves, in every workgroup before their main work,
 * do so with all their threads (the default): the matmul's prologue loads the ghost partials into its
 * staging together (`clipPrologue`), `clippedRowSums` sums each sample's rows with many threads a
 * sample. Off (`setParallelClipFactors(false)` or CLIPWISE_PARALLEL_CLIP_FACTORS=off, read once; null:
 * back to the default): a thread a sample reads its row from global memory while the others wait, the
 * before of a before/after (`clipwise bench --ab parallel-clip-factors`).
 *
 * @example
 * setParallelClipFactors(false); // a thread a sample
 */
export function setParallelClipFactors(on: boolean | null): void {
  parallel.set(on);
}

/** Whether the clip-factor prologues use every thread (`setParallelClipFactors`). */
export function parallelClipFactorsEnabled(): boolean {
  return parallel.enabled();
}
