import { ClipwiseGroupingError } from './errors';
import { thresholdsFor, totalSensitivity } from './thresholds';
import type { Group, Grouping, GroupingSnapshot, ThresholdInput } from './types';

/** A group before thresholds: what `resolveGrouping` has checked. */
export type GroupLayout = Omit<Group, 'threshold'>;

/**
 * Builds the immutable `Grouping` over checked groups with checked thresholds (one per group, in
 * order). `withThresholds` reuses the layout, so a threshold policy pays only for the new values.
 */
export function createGrouping(
  strategy: string,
  layout: readonly GroupLayout[],
  clipNorm: number,
  thresholds: readonly number[],
  indexOf: ReadonlyMap<string, number> = indexParams(layout),
): Grouping {
  const groups: readonly Group[] = Object.freeze(
    layout.map((g, m) => Object.freeze({ ...g, threshold: thresholds[m]! })),
  );
  const frozenThresholds = Object.freeze([...thresholds]);
  const sensitivity = totalSensitivity(thresholds);
  const names = layout.map((g) => g.name);

  const grouping: Grouping = {
    strategy,
    groups,
    clipNorm,
    thresholds: frozenThresholds,
    sensitivity,
    groupIndexOf(param) {
      const m = indexOf.get(param);
      if (m === undefined) {
        throw new ClipwiseGroupingError(
          `parameter '${param}' is in no group of this '${strategy}' grouping; expected one of the parameters it ` +
            'was resolved over. Resolve the grouping over every trainable parameter.',
        );
      }
      return m;
    },
    withThresholds: (input: ThresholdInput) =>
      createGrouping(strategy, layout, clipNorm, thresholdsFor(input, names), indexOf),
    describe: () => describeGrouping(grouping),
    toJSON(): GroupingSnapshot {
      return {
        strategy,
        clipNorm,
        sensitivity,
        groups: groups.map((g) => ({ name: g.name, params: [...g.params], threshold: g.threshold })),
      };
    },
  };
  return Object.freeze(grouping);
}

function indexParams(layout: readonly GroupLayout[]): Map<string, number> {
  const index = new Map<string, number>();
  layout.forEach((g, m) => g.params.forEach((p) => index.set(p, m)));
  return index;
}

/**
 * ```
 * uniform: 2 groups, clipNorm C = 1, sensitivity S = sqrt(Σ C_m²) = 1
 *   group-0  C_m = 0.7071  12 params, 1,104 scalars  7 layers: transformer.wte … transformer.h.0.mlp.c_proj
 *   group-1  C_m = 0.7071  14 params, 1,072 scalars  7 layers: transformer.h.1.ln_1 … transformer.ln_f
 * ```
 */
function describeGrouping(g: Grouping): string {
  const fmt = (x: number) => Number(x.toPrecision(4)).toString();
  const nameWidth = Math.max(...g.groups.map((group) => group.name.length));
  const lines = g.groups.map((group) => {
    const n = group.layers.length;
    const span = n === 1 ? `layer ${group.layers[0]}` : `${n} layers: ${group.layers[0]} … ${group.layers[n - 1]}`;
    return (
      `  ${group.name.padEnd(nameWidth)}  C_m = ${fmt(group.threshold)}  ` +
      `${group.params.length} param${group.params.length === 1 ? '' : 's'}, ` +
      `${group.size.toLocaleString('en-US')} scalars  ${span}`
    );
  });
  const header =
    `${g.strategy}: ${g.groups.length} group${g.groups.length === 1 ? '' : 's'}, clipNorm C = ${fmt(g.clipNorm)}, ` +
    `sensitivity S = sqrt(Σ C_m²) = ${fmt(g.sensitivity)}`;
  return [header, ...lines].join('\n');
}
