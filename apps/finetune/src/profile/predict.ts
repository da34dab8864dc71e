import type { Grouping } from '@clipwise/grouping';
import { clipInProductEnabled, groupsPerLaunch } from '@clipwise/core';
import { layerNormClipInSumsEnabled, type NormModeOption } from '@clipwise/ghost-norm';
import { gatheredRowClosesEnabled } from '@clipwise/optim';
import { scaleTrace, simulateStep, traceTape, type StepMemoryPrediction, type TapeTrace } from '@clipwise/memory';
import { progressCallback } from '../progress/progress';
import type { BenchModel } from './bench-model';
import type { BenchOptimizer } from './step-runner';

/**
 * The model's tape traced at batch 1 and 2 (cheap even for GPT-2 small) with GPT-2's logits in `spans`
 * spans of positions (default 1; ViT has none): the structure of any batch that runs on that many spans,
 * which `scaleTrace` scales to it.
 */
export async function tracePair(model: BenchModel, spans = 1): Promise<[TapeTrace, TapeTrace]> {
  model.logitsSpans?.force(spans);
  try {
    const one = await traceTape(model.lossAt(1), { onProgress: progressCallback('tracing the tape at batch 1, tape nodes') });
    const two = await traceTape(model.lossAt(2), { onProgress: progressCallback('tracing the tape at batch 2, tape nodes') });
    return [one, two];
  } finally {
    model.logitsSpans?.force(null);
  }
}

/**
 * The model's tape at `batch`, from traces at batch 1 and 2 in `batch`'s structure: GPT-2's logits in
 * the spans of positions `batch` splits them into past the logits limit (traced whole, a step in spans
 * was predicted to hold one logits tensor and its temporaries at full size: twice what it held).
 */
export async function traceModel(model: BenchModel, batch: number): Promise<TapeTrace> {
  const [one, two] = await tracePair(model, model.logitsSpans?.at(batch) ?? 1);
  return scaleTrace(one, two, batch);
}

/** The analytic memory of one bench step (see `simulateStep`), with the release and update as run on `backend`. */
export function predictStep(
  trace: TapeTrace,
  grouping: Grouping | null,
  o: { backend: string; noiseMultiplier: number; optimizer: BenchOptimizer; normMode?: NormModeOption; paramOrder?: readonly string[]; guardedUpdate?: boolean },
): StepMemoryPrediction {
  // optim's gathered row closes (as set now) take the layer norms' rows where their clip-in-sums path runs (webgpu, both switches on)
  const gathered = o.backend === 'webgpu' && gatheredRowClosesEnabled() && clipInProductEnabled() && layerNormClipInSumsEnabled();
  return simulateStep(trace, {
    groups: grouping ? grouping.groups : null,
    normMode: o.normMode,
    // the noise draw: tfjs ops on cpu/wasm (z, σz, sum + σz next to the output); one fused kernel on webgpu
    noiseTemporaries: o.noiseMultiplier === 0 || o.backend === 'webgpu' ? 0 : 3,
    // and on webgpu the release's noise and scale write the sums in place
    releaseInPlace: o.backend === 'webgpu',
    // the update: the chain of ops on cpu/wasm, in place on webgpu (nothing beside the state)
    update: o.backend === 'webgpu' || o.optimizer === 'none' ? null : o.optimizer,
    ...(o.paramOrder ? { updateOrder: o.paramOrder } : {}),
    guardedUpdate: o.guardedUpdate ?? true, // as training steps (releaseAndStep)
    ...(gathered ? { gatheredRowCloses: { groupsPerLaunch } } : {}),
  });
}

/**
 * Bytes a step holds above the non-private step at the same point of backward (each layer record's
 * arrival): records waiting for their group to close, less the sums the non-private step already holds.
 */
export function heldAbove(arrivals: readonly number[], reference: readonly number[]): number {
  if (arrivals.length === 0 || arrivals.length !== reference.length) return Number.NaN;
  return Math.max(...arrivals.map((b, i) => b - reference[i]!));
}
