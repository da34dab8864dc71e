import { envSwitch } from '../env-switch';

/** A clip factor in WGSL from the expressions of a norm, its threshold C and γ: C / max(n, C) (Abadi) or C / (n + γ) (automatic). */
export function clipFactorWgsl(automatic: boolean, norm: string, threshold: string, gamma: string): string {
  return automatic ? `${threshold} / (${norm} + ${gamma})` : `${threshold} / max(${norm}, ${threshold})`;
}

const parallel = envSwitch('CLIPWISE_PARALLEL_CLIP_FACTORS', true);

/**
 * Whether `clippedRowSums`, which forms a group's clip factors in every workgroup before its sums, sums
 * each sample's rows with many threads a sample (the default). Off (`setParallelClipFactors(false)` or
 * CLIPWISE_PARALLEL_CLIP_FACTORS=off, read once; null: back to the default): a thread a sample reads
 * its row from global memory while the others wait, the before of a before/after (`clipwise bench --ab
 * parallel-clip-factors`). The matmul's clip prologue has its own switch (`setStagedClipPrologue`).
 *
 * @example
 * setParallelClipFactors(false); // a thread a sample
 */
export function setParallelClipFactors(on: boolean | null): void {
  parallel.set(on);
}

/** Whether `clippedRowSums` forms its clip factors with every thread (`setParallelClipFactors`). */
export function parallelClipFactorsEnabled(): boolean {
  return parallel.enabled();
}

// off since the kernels' interleaved timings on an H100 (fifteenth session, apps/finetune/bench/clip-product.ts):
// the staged load was 0.001-0.014 ms slower a launch on all eight GPT-2 and ViT shapes
const stagedPrologue = envSwitch('CLIPWISE_CLIP_PROLOGUE_STAGED', false);

/**
 * Whether the matmul's clip prologue (`clippedOuterSumWithBiasFromTerms`' one launch) loads the B·W
 * ghost partials into its A staging with every thread before each sample's thread sums its row there,
 * where B·W fits the staging; off (the default): each sample's thread reads its row from global memory.
 * With GPT-2's and ViT's W of 13-18 partials, the staged load cost more than the walk it saves (an
 * H100, medians of 10 interleaved rounds: ViT's products 0.002-0.014 ms slower a launch, GPT-2's
 * 0.001-0.002). `setStagedClipPrologue(true)` or CLIPWISE_CLIP_PROLOGUE_STAGED=on (read once); null:
 * back to the default.
 *
 * @example
 * setStagedClipPrologue(true); // every thread stages the partials
 */
export function setStagedClipPrologue(on: boolean | null): void {
  stagedPrologue.set(on);
}

/** Whether the matmul's clip prologue stages the partials with every thread (`setStagedClipPrologue`). */
export function stagedClipPrologueEnabled(): boolean {
  return stagedPrologue.enabled();
}
