import { decodeTensorBytes } from './decode-tensor.js';
import type { SafetensorsTensor } from './tensor.js';
import { parseSafetensorsHeader, readHeaderLength, type SafetensorsHeader } from './header.js';

/** Everything in an in-memory safetensors file. */
export interface SafetensorsContents {
  readonly header: SafetensorsHeader;
  /** Decoded tensors by name, in file order; each `data` is a copy, never a view of the input. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
}

/**
 * Parses a whole safetensors file held in memory (small files, tests, bytes fetched in a browser),
 * with the same validation as {@link openSafetensors}. For large checkpoints on disk use
 * `openSafetensors`, which reads one tensor at a time.
 *
 * @example
 * ```ts
 * import { readSafetensorsFromBuffer, serializeSafetensors } from '@clipwise/models';
 * const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
 * const { tensors } = readSafetensorsFromBuffer(bytes);
 * tensors.get('w')!.data; // Float32Array [1, 2]
 * ```
 */
export function readSafetensorsFromBuffer(bytes: Uint8Array | ArrayBuffer, source = '<buffer>'): SafetensorsContents {
  const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const headerLength = readHeaderLength(all.subarray(0, 8), all.byteLength, source);
  const header = parseSafetensorsHeader(all.subarray(8, 8 + headerLength), all.byteLength, source);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, info] of header.tensors) {
    const [begin, end] = info.dataOffsets;
    const raw = all.subarray(header.dataStart + begin, header.dataStart + end);
    tensors.set(name, { dtype: info.dtype, shape: [...info.shape], data: decodeTensorBytes(raw, info.dtype, name, source, false) });
  }
  return { header, tensors };
}
