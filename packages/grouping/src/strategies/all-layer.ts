import { rejectUnknownOptions } from '../option-checks';
import type { GroupingStrategy } from '../types';

/**
 * `all-layer` (alias `flat`): one group holding every parameter, i.e. the flat clipping of DP-SGD
 * (Abadi et al. 2016). Best utility for a given σ, but in backward the group closes only at the first
 * layer, so every layer's records wait until the end.
 *
 * @example
 * resolveGrouping('all-layer', params, { clipNorm: 1 }).groups; // [{ name: 'all', threshold: 1, ... }]
 */
export const allLayer: GroupingStrategy = {
  name: 'all-layer',
  aliases: ['flat'],
  summary: 'one group with every parameter (flat clipping)',
  group(params, options) {
    rejectUnknownOptions('all-layer', options, []);
    return [{ name: 'all', params }];
  },
};
