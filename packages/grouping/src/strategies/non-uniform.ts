import { ClipwiseGroupingError, listNames } from '../errors';
import { layerBlocks } from '../forward-order';
import { rejectUnknownOptions } from '../option-checks';
import type { GroupingStrategy } from '../types';

/** Options of the `non-uniform` strategy. */
export interface NonUniformOptions {
  /** Layer-name prefixes, forward order; a new group starts at the first layer each one matches. */
  readonly boundaries: readonly string[];
}

/** A boundary matches a layer named exactly like it or nested below it (`h.1` matches `h.1.attn`, not `h.10`). */
function matches(layer: string, boundary: string): boolean {
  if (!layer.startsWith(boundary)) return false;
  const next = layer.charAt(boundary.length);
  return next === '' || next === '.' || next === '/';
}

/**
 * `non-uniform:<b1>,<b2>,…`: contiguous groups with explicit boundaries. The first group starts at the
 * first layer; each boundary starts a new group at the first layer (forward order) whose name equals it
 * or continues it after a `.` or `/` (so `transformer.h.6` starts a group at `transformer.h.6.ln_1`).
 * Boundaries must be listed in forward order, each must match a layer other than the first, and the
 * groups are named `group-0 … group-N`. An empty boundary list (object form) gives one group.
 *
 * @example
 * resolveGrouping('non-uniform:transformer.h.4,transformer.h.8', params, { clipNorm: 1 }).groups.length; // 3
 */
export const nonUniform: GroupingStrategy<NonUniformOptions> = {
  name: 'non-uniform',
  usage: 'non-uniform:<layer-prefix>,<layer-prefix>,…',
  summary: 'contiguous groups starting at the given layer-name prefixes',
  parse(argument) {
    const boundaries = (argument ?? '').split(',').map((b) => b.trim());
    if (boundaries.some((b) => b === '')) {
      throw new ClipwiseGroupingError(
        `grouping spec 'non-uniform:${argument ?? ''}' has an empty boundary; expected comma-separated ` +
          "layer-name prefixes, as in 'non-uniform:transformer.h.4,transformer.h.8'.",
      );
    }
    return { boundaries };
  },
  group(params, options) {
    rejectUnknownOptions('non-uniform', options, ['boundaries']);
    const { boundaries } = options;
    if (!Array.isArray(boundaries) || boundaries.some((b) => typeof b !== 'string' || b === '')) {
      throw new ClipwiseGroupingError(
        `grouping 'non-uniform' got boundaries = ${JSON.stringify(boundaries)}; expected an array of non-empty ` +
          "layer-name prefixes, e.g. { strategy: 'non-uniform', boundaries: ['transformer.h.4'] }.",
      );
    }
    const blocks = layerBlocks(params);
    const starts = [0];
    for (const boundary of boundaries as readonly string[]) {
      const at = blocks.findIndex((b) => matches(b.layer, boundary));
      if (at < 0) {
        throw new ClipwiseGroupingError(
          `grouping 'non-uniform': boundary '${boundary}' matches no layer; expected a layer name or a prefix of ` +
            `one ending at '.' or '/'. Layers are ${listNames(blocks.map((b) => b.layer))}.`,
        );
      }
      if (at === 0) {
        throw new ClipwiseGroupingError(
          `grouping 'non-uniform': boundary '${boundary}' matches the first layer '${blocks[0]!.layer}', where ` +
            'the first group starts anyway; expected a later layer. Remove this boundary.',
        );
      }
      const previous = starts[starts.length - 1]!;
      if (at <= previous) {
        throw new ClipwiseGroupingError(
          `grouping 'non-uniform': boundary '${boundary}' (layer '${blocks[at]!.layer}') does not come after the ` +
            `previous boundary (layer '${blocks[previous]!.layer}'); expected boundaries in forward order, each ` +
            'starting a different layer. Reorder or remove it.',
        );
      }
      starts.push(at);
    }
    return starts.map((start, m) => ({
      name: `group-${m}`,
      params: blocks.slice(start, starts[m + 1] ?? blocks.length).flatMap((b) => b.params),
    }));
  },
};
