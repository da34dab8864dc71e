import { rejectUnknownOptions } from '../option-checks';
import type { GroupingStrategy } from '../types';

/**
 * `param-wise` (alias `per-param`): one group per parameter tensor, named after it; the finest
 * grouping (a layer's weight and bias are clipped separately).
 *
 * @example
 * resolveGrouping('param-wise', params, { clipNorm: 1 }).groups.length === params.length; // true
 */
export const paramWise: GroupingStrategy = {
  name: 'param-wise',
  aliases: ['per-param'],
  summary: 'one group per parameter tensor',
  group(params, options) {
    rejectUnknownOptions('param-wise', options, []);
    return params.map((p) => ({ name: p.name, params: [p] }));
  },
};
