import type { ParamSpec } from '@clipwise/core';
import { ClipwiseGroupingError, listNames } from './errors';

/** The parameters of one layer, as strategies that never split a layer see them. */
export interface LayerBlock {
  readonly layer: string;
  /** Position of the layer in forward order. */
  readonly order: number;
  readonly params: readonly ParamSpec[];
}

/**
 * Checks the parameter list a grouping is resolved over and returns it in forward order (stable sort by
 * `order`, so a layer keeps its own weight/bias order). Names must be unique, and every parameter of a
 * layer must carry the same `order`, or "groups close in forward order" would mean nothing.
 */
export function sortForward(params: readonly ParamSpec[]): ParamSpec[] {
  if (params.length === 0) {
    throw new ClipwiseGroupingError(
      'resolveGrouping got no parameters; expected the trainable parameters of the model. ' +
        'Pass the ParamSpec list of the DP-aware layers (after freezing, at least one must stay trainable).',
    );
  }
  const seen = new Set<string>();
  const layerOrder = new Map<string, number>();
  for (const p of params) {
    if (typeof p.name !== 'string' || p.name === '') {
      throw new ClipwiseGroupingError(
        `a parameter has name ${JSON.stringify(p.name)}; expected a non-empty string. Give every ParamSpec its hub name.`,
      );
    }
    if (seen.has(p.name)) {
      throw new ClipwiseGroupingError(
        `parameter '${p.name}' appears twice; expected unique names. Pass each trainable parameter once (a tied weight belongs to its first owner).`,
      );
    }
    seen.add(p.name);
    if (!Number.isFinite(p.order)) {
      throw new ClipwiseGroupingError(
        `parameter '${p.name}' has order ${p.order}; expected a finite number (position of its layer in forward order).`,
      );
    }
    const known = layerOrder.get(p.layer);
    if (known === undefined) layerOrder.set(p.layer, p.order);
    else if (known !== p.order) {
      throw new ClipwiseGroupingError(
        `layer '${p.layer}' has parameters with order ${known} and ${p.order} (parameter '${p.name}'); ` +
          'expected one order per layer. Give every parameter of a layer its layer\'s forward position.',
      );
    }
  }
  return params.map((p, i) => ({ p, i })).sort((a, b) => a.p.order - b.p.order || a.i - b.i).map(({ p }) => p);
}

/** Groups forward-ordered parameters by layer, keeping forward order. */
export function layerBlocks(params: readonly ParamSpec[]): LayerBlock[] {
  const byLayer = new Map<string, { layer: string; order: number; params: ParamSpec[] }>();
  for (const p of params) {
    const block = byLayer.get(p.layer);
    if (block) block.params.push(p);
    else byLayer.set(p.layer, { layer: p.layer, order: p.order, params: [p] });
  }
  // A Map iterates in insertion order, which is forward order for forward-ordered input.
  return [...byLayer.values()];
}

/** Names of the layers, forward order, for error messages. */
export function layerNames(params: readonly ParamSpec[]): string {
  return listNames(layerBlocks(params).map((b) => b.layer));
}
