import { setTrainable, type ParamSpec } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';

/**
 * Which of a model's own parameters train (LoRA adapters always do):
 * - `'all'`: every parameter (full fine-tuning);
 * - `'bias'`: the bias terms, every parameter whose hub name ends in `.bias` (linear biases and
 *   layernorm β): DP-BiTFiT (Bu et al. 2022), whose per-sample norms need no activations;
 * - `{ last: K }`: the last K transformer blocks and every layer after them (final layernorm, a
 *   ViT's classifier; GPT-2's head is the tied token embedding, which stays frozen);
 * - `{ prefixes }`: the parameters whose name starts with one of the prefixes;
 * - `'none'`: nothing of the base model (a LoRA adapter alone);
 * - `{ union }`: what any of several specs selects (`bias,classifier`: BiTFiT with a new head).
 */
export type TrainableSpec = 'all' | 'bias' | 'none' | { readonly last: number } | { readonly prefixes: readonly string[] } | { readonly union: readonly TrainableSpec[] };

/**
 * Parses the text form: `all`, `bias`, `none`, `last:K`, a parameter name prefix, or a comma-separated
 * list of `bias`, `last:K` and prefixes (their union).
 *
 * @example
 * parseTrainableSpec('last:2'); // { last: 2 }
 * parseTrainableSpec('transformer.h.1.,transformer.ln_f'); // { prefixes: [...] }
 * parseTrainableSpec('bias,classifier'); // { union: ['bias', { prefixes: ['classifier'] }] }
 */
export function parseTrainableSpec(text: string): TrainableSpec {
  const s = text.trim();
  if (s === 'all' || s === 'none') return s;
  const items = s.split(',').map((p) => p.trim());
  if (s === '' || items.some((p) => p === '')) {
    throw new ClipwiseModelError(`trainable '${text}': expected all, bias, none, last:K or a comma-separated list of bias, last:K and parameter name prefixes (no empty entries)`);
  }
  if (items.some((p) => p === 'all' || p === 'none')) throw new ClipwiseModelError(`trainable '${text}': 'all' and 'none' stand alone, not in a list`);
  const item = (p: string): TrainableSpec => {
    if (p === 'bias') return 'bias';
    if (!p.startsWith('last:')) return { prefixes: [p] };
    const k = Number(p.slice(5));
    if (!Number.isInteger(k) || k <= 0) throw new ClipwiseModelError(`trainable '${text}': last:K needs a positive integer K (blocks), got '${p.slice(5)}'`);
    return { last: k };
  };
  const specials = items.filter((p) => p === 'bias' || p.startsWith('last:')).map(item);
  const prefixes = items.filter((p) => p !== 'bias' && !p.startsWith('last:'));
  const all = [...specials, ...(prefixes.length ? [{ prefixes }] : [])];
  return all.length === 1 ? all[0]! : { union: all };
}

/** Text form of a spec (what `parseTrainableSpec` reads back). */
export function formatTrainableSpec(spec: TrainableSpec): string {
  if (typeof spec === 'string') return spec;
  if ('union' in spec) return spec.union.map(formatTrainableSpec).join(',');
  return 'last' in spec ? `last:${spec.last}` : spec.prefixes.join(',');
}

const BLOCK = /^(?:transformer\.h|vit\.encoder\.layer)\.(\d+)\./;

/** The model's own parameters `spec` selects (throws naming a prefix that selects nothing, or a K beyond the block count). */
export function trainableSubset(model: PretrainedModel, spec: TrainableSpec): ParamSpec[] {
  const params = model.params;
  if (spec === 'all') return [...params];
  if (spec === 'none') return [];
  if (spec === 'bias') return params.filter((p) => p.name.endsWith('.bias'));
  if ('union' in spec) {
    const chosen = new Set(spec.union.flatMap((s) => trainableSubset(model, s)));
    return params.filter((p) => chosen.has(p));
  }
  if ('last' in spec) {
    const blocks = model.blocks.length;
    if (spec.last > blocks) throw new ClipwiseModelError(`trainable 'last:${spec.last}': the model has only ${blocks} blocks; use last:K with K ≤ ${blocks}`);
    const first = blocks - spec.last;
    const blockOf = (p: ParamSpec) => BLOCK.exec(p.name)?.[1];
    const lastBlockOrder = Math.max(...params.filter((p) => blockOf(p) !== undefined).map((p) => p.order));
    return params.filter((p) => {
      const b = blockOf(p);
      return b !== undefined ? Number(b) >= first : p.order > lastBlockOrder;
    });
  }
  const unknown = spec.prefixes.filter((prefix) => !params.some((p) => p.name.startsWith(prefix)));
  if (unknown.length > 0) {
    const examples = [...new Set(params.map((p) => p.name.replace(/\.(weight|bias)$/, '')))].slice(0, 6);
    throw new ClipwiseModelError(
      `trainable '${formatTrainableSpec(spec)}': no parameter name starts with ${unknown.map((u) => `'${u}'`).join(', ')}; names look like ${examples.join(', ')}, ...`,
    );
  }
  return params.filter((p) => spec.prefixes.some((prefix) => p.name.startsWith(prefix)));
}

/**
 * Freezes every parameter of the model itself except those `spec` selects (see `TrainableSpec`);
 * LoRA adapters stay trainable. Returns the model's trainable parameters afterwards
 * (`model.trainableParams`): give them to the grouping, `PrivateGradients` and the optimizer.
 *
 * @example
 * const params = selectTrainable(model, parseTrainableSpec('bias')); // DP-BiTFiT
 * const grouping = resolveGrouping('all-layer', params, { clipNorm: 1 });
 */
export function selectTrainable(model: PretrainedModel, spec: TrainableSpec): ParamSpec[] {
  const chosen = trainableSubset(model, spec);
  setTrainable(model.params, false);
  setTrainable(chosen, true);
  const trained = model.trainableParams;
  if (trained.length === 0) throw new ClipwiseModelError(`trainable '${formatTrainableSpec(spec)}' selects no parameter (and the model has no LoRA adapter): nothing would train`);
  return trained;
}
