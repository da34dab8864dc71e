import type * as tf from '@tensorflow/tfjs-core';

/** Kind of a DP-aware layer; ghost-norm kernels are registered under these names. */
export type LayerKind = 'linear' | 'embedding' | 'layernorm' | 'conv2d' | 'positional' | (string & {});

/**
 * One trainable parameter owned by a DP-aware layer. Groupings, kernels and cost models see
 * parameters only through this description.
 */
export interface ParamSpec {
  /** Unique name; for models loaded from the Hugging Face hub, the hub name (`transformer.wte.weight`). */
  readonly name: string;
  /** Name of the layer that owns it (the first owner, for a tied parameter). */
  readonly layer: string;
  /** Kind of the owning layer. */
  readonly kind: LayerKind;
  /** Role inside the layer: 'weight', 'bias', 'gamma', 'beta', 'embedding', ... */
  readonly role: string;
  readonly shape: readonly number[];
  /** Number of scalars. */
  readonly size: number;
  /** Position of the owning layer in forward order (0 = first layer run). */
  readonly order: number;
  /** Optional device tag, used by the per-device grouping. */
  readonly device?: string;
  readonly variable: tf.Variable;
}
