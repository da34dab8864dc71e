import { envSwitch } from '@clipwise/core';

// on since the interleaved A/B on an H100 (`clipwise bench --ab layer-norm-clip`, gpu-session parts 34
// and 35): ViT-B/16 B32 layer-wise −4.2 ms (5 of 5 rounds), param-wise −2.7 ms; GPT-2 small B16 even
const layerNormClip = envSwitch('CLIPWISE_LAYER_NORM_CLIP', true);

/**
 * Whether a layer norm's γ and β, at their group's close (layer-wise: one group; param-wise: one each),
 * take their clip factors in the launch that sums them (`clippedRowSums` after one pass for their
 * per-sample gradients) instead of the factors' launches and the column sums apart. Webgpu only, and
 * with core's clip in product on. On by default (CLIPWISE_LAYER_NORM_CLIP=off, read once, turns it off);
 * null: back to that default. The sums are the same either way, up to float32 rounding.
 *
 * @example
 * setLayerNormClipInSums(false); // the before of an A/B; on (the default), GPT-2 B16 T128 runs 2 dispatches a layer norm (by the kernels' passes), where layer-wise ran 4 and param-wise 8
 */
export function setLayerNormClipInSums(on: boolean | null): void {
  layerNormClip.set(on);
}

/** Whether `setLayerNormClipInSums` is on. */
export function layerNormClipInSumsEnabled(): boolean {
  return layerNormClip.enabled();
}
