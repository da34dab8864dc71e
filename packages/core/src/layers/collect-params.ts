import { ClipwiseConfigError, ClipwisePrivacyError } from '../errors';
import type { ParamSpec } from '../types';
import type { DPLayer } from './dp-layer';

/**
 * The trainable parameters of a set of layers, each once (tied weights included once), in forward
 * order. Throws on two different parameters with the same name.
 */
export function collectParams(layers: Iterable<DPLayer>): ParamSpec[] {
  const byName = new Map<string, ParamSpec>();
  for (const layer of layers) {
    for (const p of Object.values(layer.paramsByRole)) {
      const seen = byName.get(p.name);
      if (seen && seen.variable !== p.variable) {
        throw new ClipwiseConfigError(`two different parameters are both named '${p.name}': give layers unique names`);
      }
      if (p.variable.trainable) byName.set(p.name, p);
    }
  }
  return [...byName.values()].sort((a, b) => a.order - b.order);
}

/**
 * Set-up check: every trainable variable a model declares must be owned by a DP-aware layer, or it
 * would be updated without privacy. Lists all offenders in one error.
 */
export function assertAllTrainableCovered(
  declared: ReadonlyArray<{ name: string; trainable: boolean; shape: readonly number[] }>,
  params: readonly ParamSpec[],
): void {
  const owned = new Set(params.map((p) => p.variable.name));
  const uncovered = declared.filter((v) => v.trainable && !owned.has(v.name));
  if (uncovered.length > 0) {
    throw new ClipwisePrivacyError(
      `trainable variables not owned by any DP-aware layer (they would be trained without privacy): ` +
        `${uncovered.map((v) => `${v.name} [${v.shape}]`).join(', ')}. Build them with Clipwise layers or mark them non-trainable.`,
    );
  }
}
