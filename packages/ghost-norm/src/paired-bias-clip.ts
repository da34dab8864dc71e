let enabled = true;

/**
 * Whether a linear layer whose weight and bias are clipped in groups of their own (param-wise), both
 * closing with its record, takes both through one ghost-norm launch and one product
 * (`NormKernel.clippedSumsApart`): the bias's norm from the ghost launch's bias chunks and its clipped
 * sum from the weight product's bias row, scaled by its own factors. On by default: off (the bias's
 * norm, factors and sum in launches of their own) is the "before" of a before/after and the reference
 * of tests. The sums are the same either way, up to float32 rounding.
 *
 * @example
 * setPairedBiasClip(false); // a param-wise bias clipped in launches of its own
 */
export function setPairedBiasClip(on: boolean): void {
  enabled = on;
}

export function pairedBiasClipEnabled(): boolean {
  return enabled;
}
