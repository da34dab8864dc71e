import type { ParamSpec } from '@clipwise/core';
import type { BalancedOptions } from './strategies/balanced';
import type { NonUniformOptions } from './strategies/non-uniform';
import type { UniformOptions } from './strategies/uniform';

/** Options of a strategy that takes none. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}` is exactly "no options"
export type NoOptions = {};

/** A group as a strategy proposes it: a name and its members. Thresholds are allotted later. */
export interface GroupDraft {
  /** Unique among the groups; the key of a threshold record (`{ thresholds: { [name]: C_m } }`). */
  readonly name: string;
  /** Members, each one of the parameters the strategy was given. */
  readonly params: readonly ParamSpec[];
}

/**
 * How parameters are partitioned into clipping groups. A strategy is pure: it sees the parameters in
 * forward order (sorted by `order`, stable within a layer) and returns groups; `resolveGrouping` checks
 * that they partition the parameters, so a strategy need not.
 *
 * @example
 * const firstHalf: GroupingStrategy = {
 *   name: 'halves',
 *   summary: 'two groups: layers before and after the middle one',
 *   group: (params) => {
 *     const mid = Math.max(...params.map((p) => p.order)) / 2;
 *     return [
 *       { name: 'early', params: params.filter((p) => p.order < mid) },
 *       { name: 'late', params: params.filter((p) => p.order >= mid) },
 *     ];
 *   },
 * };
 * registerGroupingStrategy(firstHalf);
 */
export interface GroupingStrategy<Options = NoOptions> {
  /** Kebab-case name used in spec strings (`--grouping <name>[:<argument>]`). */
  readonly name: string;
  /** Other names accepted in specs (`per-layer` for `layer-wise`); reported as `name`. */
  readonly aliases?: readonly string[];
  /** One line for `--help` and for the error listing the registered strategies. */
  readonly summary: string;
  /** Spec-string form, shown in help and errors (`uniform:<k>`); defaults to `name`. */
  readonly usage?: string;
  /**
   * Turns the text after the first ':' of a spec string (undefined when there is none) into options.
   * Omit it for a strategy without options; a spec string that then carries an argument is an error.
   */
  parse?(argument: string | undefined): Options;
  /**
   * Partitions `params` (forward order). `options` may come from untyped config (JSON, CLI), so check
   * them and throw `ClipwiseGroupingError` naming the bad value.
   */
  group(params: readonly ParamSpec[], options: Options): readonly GroupDraft[];
}

/**
 * Options of each registered strategy, by name; gives the object form of a spec its types. A contributor's
 * strategy adds itself by declaration merging:
 *
 * @example
 * declare module '@clipwise/grouping' {
 *   interface GroupingStrategyOptions { 'attention-mlp': { rest?: 'own' | 'attention' | 'mlp' } }
 * }
 */
export interface GroupingStrategyOptions {
  'all-layer': NoOptions;
  'layer-wise': NoOptions;
  'param-wise': NoOptions;
  uniform: UniformOptions;
  'non-uniform': NonUniformOptions;
  balanced: BalancedOptions;
  'per-device': NoOptions;
}

/** Object form of a grouping spec: `{ strategy: 'uniform', k: 4 }`. */
export type GroupingSpecObject = {
  [N in keyof GroupingStrategyOptions]: { readonly strategy: N } & Readonly<GroupingStrategyOptions[N]>;
}[keyof GroupingStrategyOptions];

/** A grouping spec: a spec string (`'uniform:4'`, see `parseGroupingSpec`) or its object form. */
export type GroupingSpec = string | GroupingSpecObject;

/**
 * Per-group thresholds `C_m`: an array in group order, or a record keyed by group name that names
 * every group.
 */
export type ThresholdInput = readonly number[] | Readonly<Record<string, number>>;

/** One clipping group of a resolved grouping. */
export interface Group {
  readonly name: string;
  /** Parameter names, forward order. */
  readonly params: readonly string[];
  /**
   * Owning layers, forward order. In backward the group closes (its clip factors are known) once
   * `layers[0]`, its earliest layer, has been processed.
   */
  readonly layers: readonly string[];
  /** Number of scalars in the group. */
  readonly size: number;
  /** Clipping threshold `C_m`. */
  readonly threshold: number;
}

/** Serialisable form of a grouping, for logs and checkpoints. */
export interface GroupingSnapshot {
  readonly strategy: string;
  readonly clipNorm: number;
  readonly sensitivity: number;
  readonly groups: readonly { readonly name: string; readonly params: readonly string[]; readonly threshold: number }[];
}

/**
 * A partition of the trainable parameters into clipping groups with one threshold each. Immutable:
 * a threshold policy updates thresholds between steps with `withThresholds`, which returns a new one.
 */
export interface Grouping {
  /** Canonical name of the strategy that made it. */
  readonly strategy: string;
  readonly groups: readonly Group[];
  /** The overall clipping norm `C` the grouping was resolved with. */
  readonly clipNorm: number;
  /** `groups[m].threshold`, in group order. */
  readonly thresholds: readonly number[];
  /** Total L2 sensitivity `S = sqrt(Σ_m C_m²)`; the noise standard deviation is `σ S`. */
  readonly sensitivity: number;
  /** Index in `groups` of the group holding `param`; throws for a name not in the grouping. */
  groupIndexOf(param: string): number;
  /** The same groups with new thresholds (validated like `resolveGrouping`'s). */
  withThresholds(thresholds: ThresholdInput): Grouping;
  /** A human-readable table: one line per group with its layers, size and threshold. */
  describe(): string;
  toJSON(): GroupingSnapshot;
}

/** Options of `resolveGrouping`. */
export interface ResolveGroupingOptions {
  /** Overall clipping norm `C` (> 0, finite); the default split gives each group `C / sqrt(M)`. */
  readonly clipNorm: number;
  /** Explicit per-group thresholds instead of the default split. */
  readonly thresholds?: ThresholdInput;
}
