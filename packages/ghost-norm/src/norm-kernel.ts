import type * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError, type ClipEpilogue, type GhostSqNormPair, type LayerKind, type LayerRecord, type SampleTerm } from '@clipwise/core';

/** How a kernel forms a per-sample norm: from Gram products ('ghost') or from per-sample gradients ('instantiate'). */
export type NormMode = 'ghost' | 'instantiate';
/** 'auto' applies the mixed rule (fastDP): ghost when 2T² ≤ d·p, else instantiate. */
export type NormModeOption = NormMode | 'auto';

/** Analytic cost of forming one parameter's per-sample norms (float32). */
export interface KernelCost {
  /** Multiply-adds ×2. */
  readonly flops: number;
  /** Bytes of the largest temporary the computation holds. */
  readonly bytes: number;
}

/** Shapes of a record: what the cost model needs, without tensors. */
export interface RecordShape {
  readonly kind: LayerKind;
  /** Batch size B. */
  readonly batch: number;
  /** Sequence length T (rows per sample: tokens, patches; 1 for plain vectors). */
  readonly seq: number;
  /** Width of the activation (d), or of dy for kinds without activation. */
  readonly inFeatures: number;
  /** Width of dy (p). */
  readonly outFeatures: number;
  readonly attrs: Readonly<Record<string, unknown>>;
}

export interface ParamCost {
  readonly ghost?: KernelCost;
  readonly instantiate: KernelCost;
  /** The mode `auto` picks. */
  readonly chosen: NormMode;
}

export interface SqNormResult {
  /** [B] per-sample squared norms of this parameter's gradient from this record. */
  readonly sqNorms: tf.Tensor1D;
  readonly mode: NormMode;
}

/** A role's per-sample squared norms as a term for a consumer that sums a group's terms itself (`SqNormSum.addTerm`). */
export interface SqNormTermResult {
  /** Null: this role's norm is inside another role's term of the same record (`sqNormTerms`'s `joint`). */
  readonly term: SampleTerm | null;
  readonly mode: NormMode;
  /** The term reads the record's own tensors (dy, x̂, per-sample gradients): valid while the record is, never freed by the consumer. */
  readonly borrowed?: boolean;
}

/** `perSampleSqNorms` results as terms ([B] values). */
export function asSqNormTerms(results: Record<string, SqNormResult>): Record<string, SqNormTermResult> {
  return Object.fromEntries(Object.entries(results).map(([role, r]) => [role, { term: { kind: 'value' as const, tensor: r.sqNorms }, mode: r.mode }]));
}

/** `NormKernel.deferredGhost`'s result: the operands of a record's ghost-norm partials, for a consumer that launches many layers' at once. */
export interface DeferredGhost {
  /** `ghostSqNormPartialsMany`'s operands: the record's own a and dy (valid while the record is, never freed by the consumer). */
  readonly pair: GhostSqNormPair;
  /** The roles whose norms the pair's partials hold, each with its mode (a weight's 'ghost'; its bias inside the same launch). */
  readonly modes: Readonly<Record<string, NormMode>>;
}

/** `NormKernel.clippedSumWithClip`'s result. */
export interface ClippedSumWithClip {
  readonly sums: Record<string, tf.Tensor>;
  readonly norms: tf.Tensor1D;
  readonly factors: tf.Tensor1D;
}

/** `NormKernel.clippedSumsApart`'s result: by role, each parameter its own group. */
export interface ClippedSumsApart {
  readonly sums: Record<string, tf.Tensor>;
  readonly norms: Record<string, tf.Tensor1D>;
  readonly modes: Record<string, NormMode>;
}

/**
 * The per-sample computations of one layer kind. Kernels never see which group a parameter is in:
 * they give per-sample squared norms and, once the clip factors are known, the Book-Keeping sum
 * Σ_i c_i g_i computed from the same record (no second backward pass).
 */
export interface NormKernel {
  readonly kind: LayerKind;
  /**
   * Per-sample squared norms of the record's parameters (by role): those of `roles` (default: all;
   * a kernel may return more, which the caller frees).
   */
  perSampleSqNorms(record: LayerRecord, mode?: NormModeOption, roles?: readonly string[]): Record<string, SqNormResult>;
  /**
   * Optional: `perSampleSqNorms` with each role's norms as a term in the form cheapest to hand over,
   * for a consumer that sums a group's terms itself (the private step's clip factors): a linear
   * weight's ghost norm as its tile partials (`ghostSqNormPartials`), a bias's or layer norm's as
   * column sums of the record's dy (and x̂) formed inside the consumer's launch: the launches that
   * reduced each are saved. Terms are new tensors the caller owns, or `borrowed` (the record's).
   * `joint`: the roles asked for are clipped in one group, so only their sum matters: a kernel may
   * then give one role's term for several (e.g. a linear layer's bias inside its weight's ghost-norm
   * launch) and a null term for the others.
   */
  sqNormTerms?(record: LayerRecord, mode?: NormModeOption, roles?: readonly string[], joint?: boolean): Record<string, SqNormTermResult>;
  /**
   * Optional: where `sqNormTerms` would give these roles' norms as fused ghost partials (one launch
   * for the record), their operands instead, launching nothing: a consumer holding many records to
   * the end of backward (all-layer clipping) then forms all of theirs in a few launches
   * (`ghostSqNormPartialsMany`: the rows of the one [B, ΣW] term sum to their norms). The roles not in
   * `modes` still go through `sqNormTerms`. Null where the norm would be no such term (off webgpu,
   * instantiate mode, T = 1, K past the fused kernel's limit).
   *
   * @example
   * const d = kernel.deferredGhost?.(record, 'auto', ['weight', 'bias'], true); // { pair: { a, g: dy, bias: true }, modes: { weight: 'ghost', bias: 'instantiate' } }
   */
  deferredGhost?(record: LayerRecord, mode?: NormModeOption, roles?: readonly string[], joint?: boolean): DeferredGhost | null;
  /**
   * Σ_i c_i g_i(param), shaped like the parameter, for each role in `roles` (default: all).
   * `clipFactors` is [B], or null for every c_i = 1 (the non-private sum Σ_i g_i, with no multiply).
   * Groupings that split a layer's weight and bias close them at different times, hence `roles`;
   * roles asked for together share their work (one scaled dy for a linear weight and its bias).
   */
  clippedSum(record: LayerRecord, clipFactors: tf.Tensor1D | null, roles?: readonly string[]): Record<string, tf.Tensor>;
  /**
   * Optional: `clippedSum` added onto sums already formed for these roles (`into`: a tied parameter's
   * earlier uses, e.g. GPT-2's wte after the LM head), where the kernel can add in place: the caller
   * hands `into`'s tensors over and gets the totals back (on webgpu the same tensors, written in place:
   * no second table beside the first and the total). Roles not in `into` get their sums as `clippedSum`'s.
   *
   * @example
   * const totals = kernel.clippedSumInto?.(record, c, ['weight'], { weight: headSum }); // headSum consumed
   */
  clippedSumInto?(record: LayerRecord, clipFactors: tf.Tensor1D | null, roles: readonly string[], into: Readonly<Record<string, tf.Tensor>>): Record<string, tf.Tensor>;
  /**
   * Optional: `clippedSum` with the clip factors formed from the record's group's squared-norm terms
   * (`terms`: the whole group's, all from this record's `sqNormTerms`, e.g. a linear layer's joint ghost
   * partials, a layer norm's column-sum terms), in the same work as the sums: one launch a layer-wise
   * linear group (or param-wise weight) on webgpu, and one for a layer norm's γ and β after their
   * per-sample gradients, where the factors were a launch of their own. Returns the sums by role (shaped
   * like the parameters), the norms [B] and the factors [B], all new tensors; or null where the kernel
   * cannot take these roles or these terms (the caller then forms the factors and calls `clippedSum`).
   *
   * @example
   * const r = kernel.clippedSumWithClip?.(record, [term], { threshold: 1, automatic: false, gamma: 0 }, ['weight', 'bias']);
   */
  clippedSumWithClip?(record: LayerRecord, terms: readonly SampleTerm[], clip: ClipEpilogue, roles: readonly string[]): ClippedSumWithClip | null;
  /**
   * Optional: a record's weight and bias, each clipped in a group of its own (param-wise) and both
   * closing with the record: their per-sample norms, clip factors (`clips` by role, the same clipping
   * function) and clipped sums in the fewest launches, on webgpu the weight's ghost-norm launch with
   * the bias's chunks and one product whose bias row takes the bias's own factors (were four launches).
   * Returns sums and norms by role, all new tensors, and the norm modes; or null, having computed
   * nothing, where the kernel does not take the record (the weight's norm instantiated, off webgpu, a
   * compacted record; `setPairedBiasClip(false)`): each group then takes its usual path.
   *
   * @example
   * const r = kernel.clippedSumsApart?.(record, 'auto', { weight: clip, bias: { ...clip, threshold: 0.5 } });
   */
  clippedSumsApart?(record: LayerRecord, mode: NormModeOption, clips: { readonly weight: ClipEpilogue; readonly bias: ClipEpilogue }): ClippedSumsApart | null;
  /**
   * Optional: the per-sample gradients [B, n] of a closing group's `roles` (a layer norm's γ and β), for
   * a close that clips them with other small groups' in one launch (core's `clippedRowSumsGroups`; the
   * private step's `setGatheredRowCloses`). Returns the roles it made rows for and the rows (new
   * tensors), or null where the kernel does not take the record (off webgpu, a compacted record, a
   * role it does not carry): the group then takes its usual path.
   *
   * @example
   * const made = kernel.clipRows?.(record, ['weight', 'bias']); // { roles: ['weight', 'bias'], rows: [gGamma, gBeta] }
   */
  clipRows?(record: LayerRecord, roles: readonly string[]): { roles: string[]; rows: tf.Tensor2D[] } | null;
  /** Per-sample gradients [B, ...param.shape] (for cross terms of tied weights, tests and debugging). */
  perSampleGrads(record: LayerRecord): Record<string, tf.Tensor>;
  /** Analytic cost per role, and the mixed rule's choice. */
  cost(shape: RecordShape): Record<string, ParamCost>;
  /**
   * Optional: the form of a record that waits for its group (all-layer clipping holds every record to
   * the end of backward), holding the per-sample gradients [B, n] of its small parameters in
   * `record.perSample` instead of (a, dy) where they are the smaller: a layer norm's ([B, d] a role
   * against x̂ and dy of [B, T, d]), a bias's where the weight is frozen (BiTFiT). The result answers
   * `perSampleSqNorms`, `clippedSum` and `perSampleGrads` as the original does and shares no tensor
   * object with it (the caller frees the original); or it is the record itself, kept as it is (a
   * linear layer whose weight trains holds dy for it anyway).
   */
  compact?(record: LayerRecord): LayerRecord;
  /** Bytes a compacted record of this shape holds, given its trained roles (the memory model's); null: kept as it is. */
  compactBytes?(shape: RecordShape, roles: readonly string[]): number | null;
}

const registry = new Map<string, NormKernel>();

/** Registers (or replaces) the kernel of a layer kind. Built-in kernels register themselves this way. */
export function registerNormKernel(kernel: NormKernel): void {
  registry.set(kernel.kind, kernel);
}

/** The kernel for a layer kind; throws naming the registered kinds when there is none. */
export function getNormKernel(kind: LayerKind): NormKernel {
  const k = registry.get(kind);
  if (!k) {
    throw new ClipwiseConfigError(
      `no ghost-norm kernel registered for layer kind '${kind}' (registered: ${[...registry.keys()].join(', ')}); ` +
        `add one with registerNormKernel()`,
    );
  }
  return k;
}

export function registeredKinds(): string[] {
  return [...registry.keys()];
}

/** The shapes of a record (no tensor work). */
export function recordShape(record: LayerRecord): RecordShape {
  const dy = record.gradOutput;
  const a = record.activation;
  return {
    kind: record.kind,
    batch: dy.shape[0]!,
    seq: dy.rank === 3 ? dy.shape[1]! : 1,
    inFeatures: a && a.rank === 3 ? a.shape[2]! : dy.shape[dy.rank - 1]!,
    outFeatures: dy.shape[dy.rank - 1]!,
    attrs: record.attrs,
  };
}
