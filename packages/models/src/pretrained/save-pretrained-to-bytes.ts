import { serializeSafetensors } from '../safetensors/serialize-safetensors.js';
import type { SafetensorsTensorInput } from '../safetensors/tensor.js';
import { checkpointTensorsOf, splitPacked } from '../vit/qkv-layout.js';
import { hfConfigOf } from './hf-config-of.js';
import type { PretrainedModel } from './pretrained-model.js';

/** A Hugging Face model folder's two files, in memory. */
export interface SavedPretrained {
  /** The text of `config.json`. */
  readonly config: string;
  /** The bytes of `model.safetensors`. */
  readonly weights: Uint8Array<ArrayBuffer>;
}

/**
 * The bytes `savePretrained` (`@clipwise/models/node`) would write to a folder: `config.json` and
 * `model.safetensors` (float32, hub names), for a download link in a browser or an upload.
 * `loadPretrainedFromBytes` and transformers' `from_pretrained` read them back.
 *
 * @example
 * ```ts
 * import { savePretrainedToBytes } from '@clipwise/models';
 * const { config, weights } = await savePretrainedToBytes(model);
 * const url = URL.createObjectURL(new Blob([weights])); // model.safetensors
 * ```
 */
export async function savePretrainedToBytes(model: PretrainedModel): Promise<SavedPretrained> {
  const config = `${JSON.stringify(hfConfigOf(model), null, 2)}\n`;
  return { config, weights: serializeSafetensors(await modelTensors(model), { format: 'pt' }) };
}

/** The model's parameters as float32 safetensors inputs under their hub names (a packed ViT q|k|v as its three tensors). */
export async function modelTensors(model: PretrainedModel): Promise<Record<string, SafetensorsTensorInput>> {
  const tensors: Record<string, SafetensorsTensorInput> = {};
  for (const p of model.params) {
    const data = (await p.variable.data()) as Float32Array;
    const parts = checkpointTensorsOf(p);
    if (parts.length === 1) tensors[p.name] = { dtype: 'F32', shape: p.shape, data };
    else splitPacked(data).forEach((values, i) => (tensors[parts[i]!.name] = { dtype: 'F32', shape: parts[i]!.shape, data: values }));
  }
  return tensors;
}
