import { ClipwiseMemoryError } from '../errors';
import type { TapeTrace, TracedTensor } from './tape-trace';

/**
 * The trace of the same step at batch size `batch`, from traces at two smaller batch sizes. At a
 * fixed sequence length every tensor of a step is affine in B (activations scale with B; masks,
 * position slices and weight-shaped temporaries do not), so two traces fix each byte count exactly.
 * Throws if the traces differ in structure (another model, sequence length or code path).
 *
 * @example
 * const t = scaleTrace(await traceTape(() => loss(1)), await traceTape(() => loss(2)), 64);
 */
export function scaleTrace(a: TapeTrace, b: TapeTrace, batch: number): TapeTrace {
  if (!(Number.isInteger(batch) && batch > 0)) throw new ClipwiseMemoryError(`scaleTrace: batch must be a positive integer, got ${batch}`);
  if (a.batch === b.batch) throw new ClipwiseMemoryError(`scaleTrace: the two traces need different batch sizes, both are ${a.batch}`);
  const same =
    a.nodes.length === b.nodes.length &&
    a.records.length === b.records.length &&
    a.forwardBytes.length === b.forwardBytes.length &&
    a.lossBytes.length === b.lossBytes.length &&
    a.nodes.every((n, i) => {
      const m = b.nodes[i]!;
      return n.kernel === m.kernel && n.record === m.record && n.saved.length === m.saved.length && n.outputs.length === m.outputs.length &&
        n.saved.every((t, j) => t.key === m.saved[j]!.key) && n.outputs.every((t, j) => t.key === m.outputs[j]!.key);
    }) &&
    a.records.every((r, i) => r.layer === b.records[i]!.layer);
  if (!same) {
    throw new ClipwiseMemoryError(
      `scaleTrace: the traces at batch ${a.batch} and ${b.batch} differ in structure; trace the same model, sequence length and options`,
    );
  }
  const f = (batch - a.batch) / (b.batch - a.batch);
  const at = (x: number, y: number) => Math.max(0, Math.round(x + (y - x) * f));
  const scaled = (x: Readonly<Record<string, number>>, y: Readonly<Record<string, number>> | undefined) => Object.fromEntries(Object.entries(x).map(([role, v]) => [role, at(v, y?.[role] ?? 0)]));
  const tensors = <T extends TracedTensor>(xs: readonly T[], ys: readonly T[]): T[] => xs.map((t, i) => ({ ...t, bytes: at(t.bytes, ys[i]!.bytes) }));
  return {
    batch,
    nodes: a.nodes.map((n, i) => {
      const m = b.nodes[i]!;
      return {
        ...n,
        inputs: tensors(n.inputs, m.inputs),
        outputs: tensors(n.outputs, m.outputs),
        saved: tensors(n.saved, m.saved),
        gradientExtraBytes: at(n.gradientExtraBytes, m.gradientExtraBytes),
      };
    }),
    records: a.records.map((r, i) => {
      const s = b.records[i]!;
      return {
        ...r,
        shape: { ...r.shape, batch },
        activationBytes: at(r.activationBytes, s.activationBytes),
        gradOutputBytes: at(r.gradOutputBytes, s.gradOutputBytes),
        clipTempBytes: scaled(r.clipTempBytes, s.clipTempBytes),
        plainSumTempBytes: scaled(r.plainSumTempBytes, s.plainSumTempBytes),
        ...(r.clipIntoTempBytes ? { clipIntoTempBytes: scaled(r.clipIntoTempBytes, s.clipIntoTempBytes) } : {}),
        ...(r.plainIntoTempBytes ? { plainIntoTempBytes: scaled(r.plainIntoTempBytes, s.plainIntoTempBytes) } : {}),
      };
    }),
    forwardBytes: a.forwardBytes.map((x, i) => at(x, b.forwardBytes[i]!)),
    forwardEndBytes: at(a.forwardEndBytes, b.forwardEndBytes),
    lossBytes: a.lossBytes.map((x, i) => at(x, b.lossBytes[i]!)),
  };
}
