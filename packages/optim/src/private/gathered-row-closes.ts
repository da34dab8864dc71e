import { envSwitch } from '@clipwise/core';

const gathered = envSwitch('CLIPWISE_GATHERED_ROW_CLOSES', false);

/**
 * Whether the private step gathers the closes of small groups whose per-sample gradients are rows
 * (a layer norm's γ and β: layer-wise clipping's group, param-wise's two) and clips them together,
 * in one launch for as many groups as the device binds (core's `clippedRowSumsGroups`), instead of a
 * launch at each group's close. Each gathered group keeps its rows [B, d] (2·B·d floats for a layer
 * norm) from its close until the launch: when a launch's worth is gathered, or at the end of the
 * micro-batch's backward pass. Webgpu only (elsewhere each group closes as before). Off by default
 * (CLIPWISE_GATHERED_ROW_CLOSES=on, read once, turns it on; `clipwise bench --ab gathered-row-closes`
 * A/Bs it); null: back to that default. The sums and norms are the same either way, up to float32 rounding.
 *
 * @example
 * setGatheredRowCloses(true); // GPT-2 small, layer-wise: 25 layer norms' closes in 9 launches (16 storage bindings, as on an H100), were 25
 */
export function setGatheredRowCloses(on: boolean | null): void {
  gathered.set(on);
}

/** Whether `setGatheredRowCloses` is on. */
export function gatheredRowClosesEnabled(): boolean {
  return gathered.enabled();
}
