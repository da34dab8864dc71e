import { getNormKernel, registerNormKernel, registeredKinds, type NormKernel, type NormModeOption } from '@clipwise/ghost-norm';
import type { ClipEpilogue, LayerRecord, SampleTerm } from '@clipwise/core';
import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import type { PhaseProbe } from './phase-probe';

/**
 * Runs `f` with every registered norm kernel wrapped so that its per-sample norms count as the
 * 'norms' phase and its clipped sums as 'clipped-sums' (they run inside backward, called by the
 * private step's group clipper through the kernel registry), and each record's first kernel call
 * notes the bytes at its arrival (`probe.arrivalBytes`). The kernels are restored after.
 *
 * @example
 * await withKernelProbe(probe, () => pg.accumulate(loss));
 */
export async function withKernelProbe<T>(probe: PhaseProbe, f: () => Promise<T>): Promise<T> {
  const originals: NormKernel[] = registeredKinds().map((k) => getNormKernel(k));
  // a record's first kernel call is its arrival (norms in a private step, the plain sum in a non-private one)
  const seen = new WeakSet<LayerRecord>();
  const arrive = (record: LayerRecord) => {
    if (seen.has(record)) return;
    seen.add(record);
    probe.recordArrived();
  };
  for (const k of originals) {
    registerNormKernel({
      ...k,
      perSampleSqNorms: (record, mode, roles) => {
        arrive(record);
        return probe.around('norms', () => k.perSampleSqNorms(record, mode, roles));
      },
      ...(k.sqNormTerms && {
        sqNormTerms: (record: LayerRecord, mode?: NormModeOption, roles?: readonly string[], joint?: boolean) => {
          arrive(record);
          return probe.around('norms', () => k.sqNormTerms!(record, mode, roles, joint));
        },
      }),
      // a waiting record's ghost-norm operands, handed over on arrival (no launch: the group's close
      // launches all of them with its clip factors, inside backward)
      ...(k.deferredGhost && {
        deferredGhost: (record: LayerRecord, mode?: NormModeOption, roles?: readonly string[], joint?: boolean) => {
          arrive(record);
          return probe.around('norms', () => k.deferredGhost!(record, mode, roles, joint));
        },
      }),
      clippedSum: (record, c, roles) => {
        arrive(record);
        return probe.around('clipped-sums', () => k.clippedSum(record, c, roles));
      },
      // a tied weight's second sum added onto its first
      ...(k.clippedSumInto && {
        clippedSumInto: (record: LayerRecord, c: Tensor1D | null, roles: readonly string[], into: Readonly<Record<string, Tensor>>) => {
          arrive(record);
          return probe.around('clipped-sums', () => k.clippedSumInto!(record, c, roles, into));
        },
      }),
      // the clip factors formed inside the clipped sums' product count as clipped sums
      ...(k.clippedSumWithClip && {
        clippedSumWithClip: (record: LayerRecord, terms: readonly SampleTerm[], clip: ClipEpilogue, roles: readonly string[]) => {
          arrive(record);
          return probe.around('clipped-sums', () => k.clippedSumWithClip!(record, terms, clip, roles));
        },
      }),
      // a param-wise weight and bias closed together: their ghost-norm launch counts with the clipped sums
      ...(k.clippedSumsApart && {
        clippedSumsApart: (record: LayerRecord, mode: NormModeOption, clips: { readonly weight: ClipEpilogue; readonly bias: ClipEpilogue }) => {
          arrive(record);
          return probe.around('clipped-sums', () => k.clippedSumsApart!(record, mode, clips));
        },
      }),
      // a layer norm's rows for a gathered close (optim's `setGatheredRowCloses`): its per-sample gradients,
      // clipped and summed with other groups' later, count with the clipped sums
      ...(k.clipRows && {
        clipRows: (record: LayerRecord, roles: readonly string[]) => {
          arrive(record);
          return probe.around('clipped-sums', () => k.clipRows!(record, roles));
        },
      }),
      // a record that waits for its group is compacted on arrival (before its norms); the compacted form
      // is the same record: no second arrival. Its making counts as norms
      ...(k.compact && {
        compact: (record: LayerRecord) => {
          arrive(record);
          const next = probe.around('norms', () => k.compact!(record));
          seen.add(next);
          return next;
        },
      }),
    });
  }
  try {
    return await f();
  } finally {
    for (const k of originals) registerNormKernel(k);
  }
}
