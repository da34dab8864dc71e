import type { ParamSpec } from '@clipwise/core';
import { partitionContiguous } from '../contiguous-partition';
import { ClipwiseGroupingError } from '../errors';
import { layerBlocks } from '../forward-order';
import { checkGroupCount, rejectUnknownOptions } from '../option-checks';
import type { GroupDraft, GroupingStrategy } from '../types';

/** Options of the `balanced` strategy. */
export interface BalancedOptions {
  /** Number of groups, 1 ≤ k ≤ number of layers. */
  readonly k: number;
  /** Cost of one parameter (finite, ≥ 0); a layer costs the sum over its parameters. */
  readonly cost: (param: ParamSpec) => number;
}

/**
 * Splits forward-ordered parameters into `k` contiguous groups `group-0 … group-(k-1)` of whole layers,
 * minimising the largest group cost (see `partitionContiguous`). Shared by `balanced` and `uniform`.
 */
export function splitBalanced(
  strategy: string,
  params: readonly ParamSpec[],
  k: unknown,
  cost: (param: ParamSpec) => number,
): GroupDraft[] {
  const blocks = layerBlocks(params);
  const count = checkGroupCount(strategy, k, blocks.length);
  const costs = blocks.map((block) =>
    block.params.reduce((sum, p) => {
      const c = cost(p);
      if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) {
        throw new ClipwiseGroupingError(
          `grouping '${strategy}': cost of parameter '${p.name}' is ${String(c)}; expected a finite number ≥ 0. ` +
            'Fix the cost function so it returns a non-negative number for every parameter.',
        );
      }
      return sum + c;
    }, 0),
  );
  const starts = partitionContiguous(costs, count);
  return starts.map((start, m) => ({
    name: `group-${m}`,
    params: blocks.slice(start, starts[m + 1] ?? blocks.length).flatMap((b) => b.params),
  }));
}

/**
 * `balanced`: `k` contiguous groups in forward order, balanced by a user cost function so that the most
 * expensive group is as cheap as possible (e.g. cost = the per-sample norm memory of the layer, from
 * `@clipwise/memory`). Never splits a layer. Object form only: a spec string cannot carry a function,
 * so `balanced:4` is an error pointing to `uniform:4` (balance by parameter count).
 *
 * @example
 * resolveGrouping({ strategy: 'balanced', k: 3, cost: (p) => (p.kind === 'embedding' ? 0 : p.size) }, params, {
 *   clipNorm: 1,
 * });
 */
export const balanced: GroupingStrategy<BalancedOptions> = {
  name: 'balanced',
  usage: "{ strategy: 'balanced', k, cost: (param) => number }",
  summary: 'k contiguous groups of whole layers, balanced by a cost function (object form only)',
  parse(argument) {
    throw new ClipwiseGroupingError(
      `grouping spec 'balanced${argument === undefined ? '' : `:${argument}`}' cannot be written as a string; ` +
        "expected the object form { strategy: 'balanced', k, cost: (param) => number }, since the cost is a function. " +
        `To balance by parameter count from a command line, use 'uniform:${argument ?? '<k>'}'.`,
    );
  },
  group(params, options) {
    rejectUnknownOptions('balanced', options, ['k', 'cost']);
    if (typeof options.cost !== 'function') {
      throw new ClipwiseGroupingError(
        `grouping 'balanced' got cost = ${String(options.cost)}; expected a function (param) => number. ` +
          "Pass { strategy: 'balanced', k, cost: (p) => p.size } or use 'uniform:<k>'.",
      );
    }
    return splitBalanced('balanced', params, options.k, options.cost);
  },
};
