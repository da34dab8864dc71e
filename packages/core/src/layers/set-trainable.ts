import type { ParamSpec } from '../types';

/**
 * Freezes (`false`) or unfreezes parameters. A frozen parameter keeps its value bit for bit: its
 * layers hand no record for it (a layer whose parameters are all frozen still passes dx on), so it
 * gets no per-sample norm, no noise and no optimizer state, and `collectParams` leaves it out, so
 * groupings and the sensitivity cover the trainable parameters only. Freeze before building the
 * grouping, `PrivateGradients` and the optimizer.
 *
 * @example
 * setTrainable(model.params, false);
 * setTrainable(model.params.filter((p) => p.name.endsWith('.bias')), true); // BiTFiT
 * const params = collectParams(model.layers); // the biases only
 */
export function setTrainable(params: Iterable<ParamSpec>, trainable: boolean): void {
  for (const p of params) p.variable.trainable = trainable;
}
