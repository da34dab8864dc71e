import type { ParamSpec } from '@clipwise/core';
import { createGrouping, type GroupLayout } from './create-grouping';
import { ClipwiseGroupingError, listNames } from './errors';
import { sortForward } from './forward-order';
import { parseGroupingSpec } from './parse-grouping-spec';
import { getGroupingStrategy } from './registry';
import { checkClipNorm, equalSplit, thresholdsFor } from './thresholds';
import type { GroupDraft, Grouping, GroupingSpec, ResolveGroupingOptions } from './types';

/**
 * Partitions the trainable parameters into clipping groups and gives each group its threshold `C_m`:
 * by default the equal split `C_m = C / sqrt(M)`, so the total sensitivity `sqrt(Σ_m C_m²)` is `C`
 * (fastDP, Bu et al. 2023); or explicit thresholds (array in group order or record by group name),
 * whose sensitivity is then `sqrt(Σ_m C_m²)` whatever `clipNorm` says.
 *
 * Checks that the strategy's groups partition `params` (each parameter in exactly one group, no empty
 * group, unique group names); every failure is a `ClipwiseGroupingError` naming the bad value.
 *
 * @param spec a spec string (`'uniform:4'`, see `parseGroupingSpec`) or its object form
 * @param params the trainable parameters; they are taken in forward order (sorted by `order`)
 * @param options `clipNorm` C and optional explicit `thresholds`
 * @returns the immutable grouping; groups are in forward order of their first layer for built-ins
 *
 * @example
 * const grouping = resolveGrouping('layer-wise', params, { clipNorm: 1 });
 * grouping.groups[grouping.groupIndexOf('transformer.h.0.attn.c_attn.bias')].threshold; // 1 / sqrt(M)
 * grouping.sensitivity; // 1
 */
export function resolveGrouping(
  spec: GroupingSpec,
  params: readonly ParamSpec[],
  options: ResolveGroupingOptions,
): Grouping {
  const clipNorm = checkClipNorm(options?.clipNorm);
  const specObject = typeof spec === 'string' ? parseGroupingSpec(spec) : checkSpecObject(spec);
  const strategy = getGroupingStrategy(specObject.strategy);
  const ordered = sortForward(params);
  const { strategy: _name, ...strategyOptions } = specObject as { strategy: string } & Record<string, unknown>;
  const drafts = strategy.group(ordered, strategyOptions);
  const layout = checkPartition(strategy.name, drafts, ordered);
  const names = layout.map((g) => g.name);
  const thresholds =
    options.thresholds === undefined ? equalSplit(clipNorm, layout.length) : thresholdsFor(options.thresholds, names);
  return createGrouping(strategy.name, layout, clipNorm, thresholds);
}

function checkSpecObject(spec: unknown): { strategy: string } {
  if (typeof spec !== 'object' || spec === null || typeof (spec as { strategy?: unknown }).strategy !== 'string') {
    throw new ClipwiseGroupingError(
      `grouping spec is ${JSON.stringify(spec)}; expected a spec string such as 'layer-wise' or an object ` +
        "with a strategy name, such as { strategy: 'uniform', k: 4 }.",
    );
  }
  return spec as { strategy: string };
}

/** Checks that the drafts partition `params` and lays them out in forward order within each group. */
function checkPartition(strategy: string, drafts: readonly GroupDraft[], params: readonly ParamSpec[]): GroupLayout[] {
  if (!Array.isArray(drafts) || drafts.length === 0) {
    throw new ClipwiseGroupingError(
      `grouping strategy '${strategy}' returned ${Array.isArray(drafts) ? 'no groups' : String(drafts)}; ` +
        'expected a non-empty array of { name, params }. Fix the strategy\'s group() function.',
    );
  }
  const position = new Map(params.map((p, i) => [p.name, i]));
  const owner = new Map<string, string>();
  const groupNames = new Set<string>();
  const layout = drafts.map((draft) => {
    if (typeof draft?.name !== 'string' || draft.name === '') {
      throw new ClipwiseGroupingError(
        `grouping strategy '${strategy}' returned a group named ${JSON.stringify(draft?.name)}; expected a ` +
          'non-empty string. Give every group a name (it keys the thresholds).',
      );
    }
    if (groupNames.has(draft.name)) {
      throw new ClipwiseGroupingError(
        `grouping strategy '${strategy}' returned two groups named '${draft.name}'; expected unique names ` +
          '(they key the thresholds). Rename one of them.',
      );
    }
    groupNames.add(draft.name);
    const draftParams: readonly ParamSpec[] = draft.params;
    if (!Array.isArray(draftParams as unknown) || draftParams.length === 0) {
      throw new ClipwiseGroupingError(
        `grouping strategy '${strategy}' returned group '${draft.name}' with no parameters; expected every ` +
          'group to hold at least one (an empty group would still take a share of the clipping norm). Drop it.',
      );
    }
    for (const p of draftParams) {
      const name = (p as ParamSpec | undefined)?.name as string;
      if (!position.has(name)) {
        throw new ClipwiseGroupingError(
          `grouping strategy '${strategy}' put parameter ${JSON.stringify(name)} in group '${draft.name}', but it ` +
            'is not one of the parameters being grouped; expected only ParamSpecs from the list it was given.',
        );
      }
      const previous = owner.get(name);
      if (previous !== undefined) {
        throw new ClipwiseGroupingError(
          `grouping strategy '${strategy}' put parameter '${name}' in both group '${previous}' and group ` +
            `'${draft.name}'; expected each parameter in exactly one group. Fix the strategy's group() function.`,
        );
      }
      owner.set(name, draft.name);
    }
    // Forward order inside a group, whatever order the strategy listed them in.
    const members = draftParams.map((p) => position.get(p.name)!).sort((a, b) => a - b).map((i) => params[i]!);
    return {
      name: draft.name,
      params: Object.freeze(members.map((p) => p.name)),
      layers: Object.freeze([...new Set(members.map((p) => p.layer))]),
      size: members.reduce((sum, p) => sum + p.size, 0),
    };
  });
  const missing = params.filter((p) => !owner.has(p.name)).map((p) => p.name);
  if (missing.length) {
    throw new ClipwiseGroupingError(
      `grouping strategy '${strategy}' left parameter(s) ${listNames(missing)} out of every group; expected each ` +
        'parameter in exactly one group (an ungrouped parameter would be trained without privacy). ' +
        'Fix the strategy\'s group() function, e.g. add a catch-all group.',
    );
  }
  return layout;
}
