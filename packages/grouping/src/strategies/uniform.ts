import { parseGroupCount, rejectUnknownOptions } from '../option-checks';
import type { GroupingStrategy } from '../types';
import { splitBalanced } from './balanced';

/** Options of the `uniform` strategy. */
export interface UniformOptions {
  /** Number of groups, 1 ≤ k ≤ number of layers. */
  readonly k: number;
}

/**
 * `uniform:<k>`: `k` contiguous groups `group-0 … group-(k-1)` in forward order, balanced by parameter
 * count (the largest group has as few scalars as a split into whole layers allows). A layer's
 * parameters are never split across groups, so `k` may not exceed the number of layers (the error names
 * the maximum); use `param-wise` for finer groups. Same as `balanced` with `cost: (p) => p.size`.
 *
 * @example
 * resolveGrouping('uniform:4', params, { clipNorm: 1 }).groups.length; // 4
 */
export const uniform: GroupingStrategy<UniformOptions> = {
  name: 'uniform',
  aliases: ['uniform-k'],
  usage: 'uniform:<k>',
  summary: 'k contiguous groups of whole layers with about equal parameter counts',
  parse: (argument) => ({ k: parseGroupCount('uniform', argument) }),
  group(params, options) {
    rejectUnknownOptions('uniform', options, ['k']);
    return splitBalanced('uniform', params, options.k, (p) => p.size);
  },
};
