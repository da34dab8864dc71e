import { envSwitch } from '@clipwise/core';

// off until an interleaved A/B on a GPU decides (`clipwise bench --ab layer-norm-clip`); tested on lavapipe
const layerNormClip = envSwitch('CLIPWISE_LAYER_NORM_CLIP');

/**
 * Whether a layer norm's γ and β, at their group's close (layer-wise: one group; param-wise: one each),
 * take their clip factors in the launch that sums them (`clippedRowSums` after one pass for their
 * per-sample gradients) instead of the factors' launches and the column sums apart. Webgpu only, and
 * with core's clip in product on. Off by default (CLIPWISE_LAYER_NORM_CLIP=on, read once, turns it on);
 * null: back to that default. The sums are the same either way, up to float32 rounding.
 *
 * @example
 * setLayerNormClipInSums(true); // GPT-2 B16 T128: 2 dispatches a layer norm (by the kernels' passes), where layer-wise ran 4 and param-wise 8
 */
export function setLayerNormClipInSums(on: boolean | null): void {
  layerNormClip.set(on);
}

/** Whether `setLayerNormClipInSums` is on. */
export function layerNormClipInSumsEnabled(): boolean {
  return layerNormClip.enabled();
}
