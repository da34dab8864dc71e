import { ClipwiseModelError } from '../clipwise-model-error.js';
import { SAFETENSORS_DTYPE_BYTES } from './dtype.js';
import { validateTensorInput } from './encode-tensor.js';
import type { SafetensorsTensorInput } from './tensor.js';

/** The serialised header of a file about to be written, and where each tensor goes. */
export interface PlannedSafetensors {
  /** The 8-byte length followed by the space-padded JSON header. */
  readonly headerBytes: Uint8Array;
  /** Tensors in the order their data is written. */
  readonly order: ReadonlyArray<{ readonly name: string; readonly tensor: SafetensorsTensorInput; readonly byteLength: number }>;
  /** Size of the whole file. */
  readonly totalBytes: number;
}

/**
 * Validates the inputs and lays the file out like the Hugging Face implementation: tensors sorted
 * by dtype size (largest first, so every tensor is aligned to its element size) then by name; JSON
 * header padded with spaces to a multiple of 8 bytes so the data region starts 8-byte aligned.
 */
export function planSafetensors(
  tensors: Readonly<Record<string, SafetensorsTensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): PlannedSafetensors {
  const order = Object.entries(tensors)
    .map(([name, tensor]) => ({ name, tensor, byteLength: validateTensorInput(name, tensor) }))
    .sort(
      (a, b) =>
        SAFETENSORS_DTYPE_BYTES[b.tensor.dtype] - SAFETENSORS_DTYPE_BYTES[a.tensor.dtype] ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  // Built by hand so a tensor named like an Object.prototype key ('__proto__') survives.
  const fields: string[] = [];
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new ClipwiseModelError(
          `metadata['${key}'] is ${JSON.stringify(value)}; safetensors metadata values must be strings. Fix: String(value) or JSON.stringify(value).`,
        );
      }
    }
    fields.push(`"__metadata__":${jsonObject(Object.entries(metadata))}`);
  }
  let offset = 0;
  for (const { name, tensor, byteLength } of order) {
    const info = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + byteLength] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += byteLength;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const headerBytes = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(padded), true);
  headerBytes.set(json, 8);
  return { headerBytes, order, totalBytes: headerBytes.byteLength + offset };
}

function jsonObject(entries: Array<[string, string]>): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}
