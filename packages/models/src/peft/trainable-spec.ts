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
 * - `'none'`: nothing of the base model (a LoRA adapter alone).
 */
export type TrainableSpec = 'all' | 'bias' | 'none' | { readonly last: number } | { readonly prefixes: readonly string[] };

/**
 * Parses the text form: `all`, `bias`, `none`, `last:K`, or `PREFIX,PREFIX,...`.
 *
 * @example
 * parseTrainableSpec('last:2'); // { last: 2 }
 * parseTrainableSpec('transformer.h.1.,transformer.ln_f'); // { prefixes: [...] }
 */
export function parseTrainableSpec(text: string): TrainableSpec {
  const s = text.trim();
  if (s === 'all' || s === 'bias' || s === 'none') return s;
  if (s.startsWith('last:')) {
    const k = Number(s.slice(5));
    if (!Number.isInteger(k) || k <= 0) throw new ClipwiseModelError(`trainable '${text}': last:K needs a positive integer K (blocks), got '${s.slice(5)}'`);
    return { last: k };
  }
  const prefixes = s.split(',').map((p) => p.trim());
  if (s === '' || prefixes.some((p) => p === '')) {
    throw new ClipwiseModelError(`trainable '${text}': expected all, bias, none, last:K or a comma-separated list of parameter name prefixes (no empty entries)`);
  }
  return { prefixes };
}

/** Text form of a spec (what `parseTrainableSpec` reads back). */
export function formatTrainableSpec(spec: TrainableSpec): string {
  if (typeof spec === 'string') return spec;
  return 'last' in spec ? `last:${spec.last}` : spec.prefixes.join(',');
}

const BLOCK = /^(?:transformer\.h|vit\.encoder\.layer)\.(\d+)\./;

/** The model's own parameters `spec` selects (throws naming a prefix that selects nothing, or a K beyond the block count). */
export function trainableSubset(model: PretrainedModel, spec: TrainableSpec): ParamSpec[] {
  const params = model.params;
  if (spec === 'all') return [...params];
  if (spec === 'none') return [];
  if (spec === 'bias') return params.filter((p) => p.name.endsWith('.bias'));
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
      `trainable '${spec.prefixes.join(',')}': no parameter name starts with ${unknown.map((u) => `'${u}'`).join(', ')}; names look like ${examples.join(', ')}, ...`,
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
