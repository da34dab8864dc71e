import { ClipwiseGroupingError } from './errors';
import { getGroupingStrategy, listGroupingStrategies } from './registry';
import type { GroupingSpecObject } from './types';

/**
 * Parses a grouping spec string, as a CLI takes it (`--grouping uniform:4`), into its object form.
 * The text before the first ':' names a registered strategy (or alias); the rest is its argument:
 *
 * | spec | groups |
 * | --- | --- |
 * | `all-layer` (`flat`) | one group: flat clipping |
 * | `layer-wise` (`per-layer`) | one per layer |
 * | `param-wise` (`per-param`) | one per parameter tensor |
 * | `uniform:<k>` | k contiguous groups of whole layers, balanced by parameter count |
 * | `non-uniform:<prefix>,<prefix>,…` | a new group at the first layer matching each prefix |
 * | `per-device` | one per `ParamSpec.device` tag |
 *
 * `balanced` needs a cost function, so it has no string form. Surrounding spaces are ignored.
 *
 * @example
 * parseGroupingSpec('uniform:4'); // { strategy: 'uniform', k: 4 }
 * parseGroupingSpec('per-layer'); // { strategy: 'layer-wise' }
 */
export function parseGroupingSpec(spec: string): GroupingSpecObject {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new ClipwiseGroupingError(
      `grouping spec is ${JSON.stringify(spec)}; expected a strategy name such as ${usageList()}.`,
    );
  }
  const text = spec.trim();
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  const argument = colon < 0 ? undefined : text.slice(colon + 1);
  const strategy = getGroupingStrategy(name);
  if (!strategy.parse) {
    if (argument !== undefined) {
      throw new ClipwiseGroupingError(
        `grouping spec '${text}' gives '${strategy.name}' the argument '${argument}', but it takes none; ` +
          `expected just '${strategy.name}'. Remove ':${argument}'.`,
      );
    }
    return { strategy: strategy.name } as GroupingSpecObject;
  }
  const { strategy: _ignored, ...options } = strategy.parse(argument) as Record<string, unknown>;
  return { strategy: strategy.name, ...options } as GroupingSpecObject;
}

/** `'all-layer', 'layer-wise', …, 'uniform:<k>'`: the registered strategies' spec forms, for messages and help. */
export function usageList(): string {
  return listGroupingStrategies()
    .map((s) => `'${s.usage ?? s.name}'`)
    .join(', ');
}
