import { ClipwiseGroupingError } from './errors';

/**
 * Throws when `options` holds a key the strategy does not know, so a typo (`{ strategy: 'uniform', K: 4 }`)
 * is an error rather than a silently ignored setting.
 */
export function rejectUnknownOptions(strategy: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (key !== 'strategy' && !known.includes(key)) {
      const expected = known.length ? `one of ${known.map((k) => `'${k}'`).join(', ')}` : 'no options';
      throw new ClipwiseGroupingError(
        `grouping '${strategy}' got unknown option '${key}'; expected ${expected}. Remove or rename it.`,
      );
    }
  }
}

/**
 * Checks a group count `k` against the number of layers: strategies that never split a layer cannot
 * make more groups than there are layers.
 */
export function checkGroupCount(strategy: string, k: unknown, layerCount: number): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new ClipwiseGroupingError(
      `grouping '${strategy}' got k = ${JSON.stringify(k)}; expected a whole number of groups ≥ 1. ` +
        `Write '${strategy}:4' or { strategy: '${strategy}', k: 4 }.`,
    );
  }
  if (k > layerCount) {
    throw new ClipwiseGroupingError(
      `grouping '${strategy}' got k = ${k} but the model has ${layerCount} layer(s), and a layer is never split ` +
        `across groups; expected k ≤ ${layerCount}. Use k = ${layerCount} (same as layer-wise) or 'param-wise' for one group per parameter.`,
    );
  }
  return k;
}

/** Parses the `<k>` of a `name:<k>` spec string. */
export function parseGroupCount(strategy: string, argument: string | undefined): number {
  const text = argument?.trim() ?? '';
  if (!/^\d+$/.test(text)) {
    const got = argument === undefined ? 'no group count' : `'${argument}'`;
    throw new ClipwiseGroupingError(
      `grouping spec '${strategy}' has ${got}; expected a whole number of groups after the colon, as in '${strategy}:4'.`,
    );
  }
  return Number(text);
}
