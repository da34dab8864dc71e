import { layerBlocks } from '../forward-order';
import { rejectUnknownOptions } from '../option-checks';
import type { GroupingStrategy } from '../types';

/**
 * `layer-wise` (alias `per-layer`): one group per layer, i.e. the parameters sharing `layer` (weight and
 * bias clipped together), named after the layer. Groups close one by one in backward, so each layer's
 * records can be freed as soon as it is done: the least memory of the layer-respecting groupings.
 *
 * @example
 * resolveGrouping('layer-wise', params, { clipNorm: 1 }).groups.map((g) => g.name);
 * // ['transformer.wte', 'transformer.wpe', 'transformer.h.0.ln_1', ...]
 */
export const layerWise: GroupingStrategy = {
  name: 'layer-wise',
  aliases: ['per-layer'],
  summary: 'one group per layer (its weight and bias together)',
  group(params, options) {
    rejectUnknownOptions('layer-wise', options, []);
    return layerBlocks(params).map((block) => ({ name: block.layer, params: block.params }));
  },
};
