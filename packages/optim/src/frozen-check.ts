import type { ParamSpec } from '@clipwise/core';
import { ClipwiseOptimError } from './errors';

/**
 * Refuses frozen parameters (`variable.trainable === false`) in a parameter list: the private step
 * would add noise to their (empty) sums and the optimizer would move them, so a frozen parameter
 * would change. `who` names the caller in the message.
 */
export function assertNoFrozenParams(params: readonly ParamSpec[], who: string): void {
  const frozen = params.filter((p) => !p.variable.trainable).map((p) => p.name);
  if (frozen.length > 0) {
    throw new ClipwiseOptimError(
      `${who}: ${frozen.length} frozen parameter(s) in params (${frozen.slice(0, 3).join(', ')}${frozen.length > 3 ? ', ...' : ''}); ` +
        'a frozen parameter gets no noise and no update: pass the trainable ones only (model.trainableParams or collectParams(layers))',
    );
  }
}
