import { getNormKernel, type KernelCost, type NormMode } from '@clipwise/ghost-norm';
import type { TapeTrace } from '../trace/tape-trace';

/** The analytic cost of one parameter's per-sample norms in one layer record, both modes. */
export interface LayerCostRow {
  readonly layer: string;
  readonly kind: string;
  readonly role: string;
  readonly param: string;
  /** B, T, d (activation width), p (output width). */
  readonly batch: number;
  readonly seq: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The mixed rule's choice (ghost when 2T² ≤ d·p, for linear weights). */
  readonly chosen: NormMode;
  readonly ghost: KernelCost | null;
  readonly instantiate: KernelCost;
  /** Bytes the record holds while its group is open: activation and output gradient. */
  readonly recordBytes: number;
}

/**
 * Per layer record (backward order) and parameter: the kernels' own cost reports (`cost()` of the
 * ghost-norm kernel registered for the layer kind) at the traced shapes.
 *
 * @example
 * for (const r of layerCosts(trace)) console.log(r.layer, r.role, r.chosen, r.ghost?.flops, r.instantiate.flops);
 */
export function layerCosts(trace: TapeTrace): LayerCostRow[] {
  return trace.records.flatMap((r) => {
    const cost = getNormKernel(r.kind).cost(r.shape);
    return r.params.flatMap((p) => {
      const c = cost[p.role];
      if (!c) return [];
      return [{
        layer: r.layer,
        kind: r.kind,
        role: p.role,
        param: p.name,
        batch: r.shape.batch,
        seq: r.shape.seq,
        inFeatures: r.shape.inFeatures,
        outFeatures: r.shape.outFeatures,
        chosen: c.chosen,
        ghost: c.ghost ?? null,
        instantiate: c.instantiate,
        recordBytes: r.activationBytes + r.gradOutputBytes,
      }];
    });
  });
}
