// The README's "add a strategy" example, kept compiling and tested. Outside this package, import from
// '@clipwise/grouping' and augment '@clipwise/grouping' instead of '../index'.
import type { ParamSpec } from '@clipwise/core';
import { ClipwiseGroupingError, registerGroupingStrategy, type GroupingStrategy } from '../index';

/** Options of `attention-mlp`: where layers that are neither attention nor MLP go. */
export interface AttentionMlpOptions {
  /** 'own' (default): a third group 'other'; 'attention' or 'mlp': join that group. */
  readonly rest?: 'own' | 'attention' | 'mlp';
}

const isAttention = (p: ParamSpec) => /(^|\.)attn(\.|$)|(^|\.)attention(\.|$)/.test(p.layer);
const isMlp = (p: ParamSpec) => /(^|\.)mlp(\.|$)/.test(p.layer);

/**
 * `attention-mlp[:<rest>]`: attention layers in one group, MLP layers in another, the rest (embeddings,
 * layer norms) in a third group or joined to one of the two.
 *
 * @example
 * resolveGrouping('attention-mlp:mlp', params, { clipNorm: 1 }).groups.map((g) => g.name); // ['attention', 'mlp']
 */
export const attentionMlp: GroupingStrategy<AttentionMlpOptions> = {
  name: 'attention-mlp',
  usage: 'attention-mlp[:own|attention|mlp]',
  summary: 'attention layers, MLP layers and the rest as separate groups',
  parse: (argument) => (argument === undefined ? {} : { rest: argument.trim() as AttentionMlpOptions['rest'] }),
  group(params, { rest = 'own' }) {
    if (!['own', 'attention', 'mlp'].includes(rest)) {
      throw new ClipwiseGroupingError(
        `grouping 'attention-mlp' got rest = '${rest}'; expected 'own', 'attention' or 'mlp'. Write e.g. 'attention-mlp:mlp'.`,
      );
    }
    const other = params.filter((p) => !isAttention(p) && !isMlp(p));
    const groups = [
      { name: 'attention', params: [...params.filter(isAttention), ...(rest === 'attention' ? other : [])] },
      { name: 'mlp', params: [...params.filter(isMlp), ...(rest === 'mlp' ? other : [])] },
      { name: 'other', params: rest === 'own' ? other : [] },
    ];
    // Empty groups are an error in resolveGrouping (they would take a share of C), so drop them here.
    return groups.filter((g) => g.params.length > 0);
  },
};

registerGroupingStrategy(attentionMlp);

// Gives the object form { strategy: 'attention-mlp', rest: 'mlp' } its types.
declare module '../index' {
  interface GroupingStrategyOptions {
    'attention-mlp': AttentionMlpOptions;
  }
}
