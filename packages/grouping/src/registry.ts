import { ClipwiseGroupingError } from './errors';
import { builtInStrategies } from './strategies/built-ins';
import type { GroupingStrategy } from './types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each strategy has its own options type
type AnyStrategy = GroupingStrategy<any>;

const strategies = new Map<string, AnyStrategy>();
const aliases = new Map<string, string>();

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Options of `registerGroupingStrategy`. */
export interface RegisterGroupingStrategyOptions {
  /** Replace a strategy already registered under this name (default false: that is an error). */
  readonly replace?: boolean;
}

/**
 * Makes a strategy available to `resolveGrouping` and `parseGroupingSpec` under its name and aliases.
 * The built-in strategies register themselves through this same function.
 *
 * @example
 * registerGroupingStrategy({
 *   name: 'embeddings-apart',
 *   summary: 'embeddings in one group, everything else in another',
 *   group: (params) => [
 *     { name: 'embeddings', params: params.filter((p) => p.kind === 'embedding') },
 *     { name: 'rest', params: params.filter((p) => p.kind !== 'embedding') },
 *   ],
 * });
 */
export function registerGroupingStrategy<Options>(
  strategy: GroupingStrategy<Options>,
  options: RegisterGroupingStrategyOptions = {},
): void {
  const names = [strategy.name, ...(strategy.aliases ?? [])];
  for (const name of names) {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ClipwiseGroupingError(
        `cannot register grouping strategy named ${JSON.stringify(name)}; expected a kebab-case name ` +
          "(lower-case letters, digits and '-', no ':' or ','), e.g. 'attention-mlp'.",
      );
    }
  }
  if (typeof strategy.group !== 'function') {
    throw new ClipwiseGroupingError(
      `grouping strategy '${strategy.name}' has no group() function; expected group(params, options) returning the groups.`,
    );
  }
  const replaced = options.replace && strategies.has(strategy.name) ? strategy.name : undefined;
  for (const name of names) {
    const owner = strategies.has(name) ? name : aliases.get(name);
    if (owner !== undefined && owner !== replaced) {
      throw new ClipwiseGroupingError(
        `grouping strategy name '${name}' is already taken by '${owner}'; expected a new name. ` +
          (owner === strategy.name
            ? 'Choose another name, or pass { replace: true } to replace it on purpose.'
            : 'Choose another name or alias.'),
      );
    }
  }
  if (replaced !== undefined) unregisterGroupingStrategy(replaced);
  strategies.set(strategy.name, strategy);
  for (const alias of strategy.aliases ?? []) aliases.set(alias, strategy.name);
}

/** Removes a strategy (and its aliases); returns whether one was registered. Useful in tests. */
export function unregisterGroupingStrategy(name: string): boolean {
  const canonical = aliases.get(name) ?? name;
  const strategy = strategies.get(canonical);
  if (!strategy) return false;
  strategies.delete(canonical);
  for (const alias of strategy.aliases ?? []) aliases.delete(alias);
  return true;
}

/** The strategy registered under `name` or one of its aliases; throws listing the registered ones. */
export function getGroupingStrategy(name: string): AnyStrategy {
  const strategy = strategies.get(aliases.get(name) ?? name);
  if (!strategy) {
    throw new ClipwiseGroupingError(
      `unknown grouping strategy '${name}'; expected one of ${listGroupingStrategies()
        .map((s) => `'${s.name}'`)
        .join(', ')}. Check the spelling, or register it with registerGroupingStrategy().`,
    );
  }
  return strategy;
}

/** The registered strategies, in registration order (built-ins first): for `--help` texts. */
export function listGroupingStrategies(): readonly AnyStrategy[] {
  return [...strategies.values()];
}

for (const strategy of builtInStrategies) registerGroupingStrategy(strategy);
