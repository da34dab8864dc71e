import { ClipwiseModelError } from '../clipwise-model-error.js';
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
  const file = SafetensorsBuffer.open(bytes, source);
  return { header: file.header, tensors: new Map(file.names.map((n) => [n, file.decode(n)])) };
}

/**
 * A safetensors file held in memory whose tensors are decoded one at a time when asked for; the
 * in-memory twin of {@link SafetensorsFile} (same `header`, `names`, `readTensor`, `close`), so code
 * that loads a checkpoint works on bytes fetched in a browser and on a file on disk alike.
 */
export class SafetensorsBuffer {
  private constructor(
    private readonly bytes: Uint8Array,
    /** The validated header: names, dtypes, shapes, offsets and `__metadata__`. */
    readonly header: SafetensorsHeader,
  ) {}

  /**
   * Validates the header of `bytes` (see {@link parseSafetensorsHeader}); no tensor is decoded yet.
   *
   * @example
   * ```ts
   * import { SafetensorsBuffer } from '@clipwise/models';
   * const file = SafetensorsBuffer.open(await (await fetch('model.safetensors')).arrayBuffer());
   * const wte = await file.readTensor('wte.weight');
   * ```
   */
  static open(bytes: Uint8Array | ArrayBuffer, source = '<buffer>'): SafetensorsBuffer {
    const all = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const headerLength = readHeaderLength(all.subarray(0, 8), all.byteLength, source);
    return new SafetensorsBuffer(all, parseSafetensorsHeader(all.subarray(8, 8 + headerLength), all.byteLength, source));
  }

  /** Where the bytes came from (the `source` given to {@link SafetensorsBuffer.open}). */
  get path(): string {
    return this.header.source;
  }

  /** Tensor names, in file order. */
  get names(): string[] {
    return [...this.header.tensors.keys()];
  }

  /** Decodes one tensor (a copy, never a view of the bytes); throws a `ClipwiseModelError` naming it if absent. */
  async readTensor(name: string): Promise<SafetensorsTensor> {
    return this.decode(name);
  }

  /** `readTensor`, synchronously (the bytes are in memory). */
  decode(name: string): SafetensorsTensor {
    const info = this.header.tensors.get(name);
    if (!info) throw new ClipwiseModelError(`tensor '${name}' is not in ${this.path}. Fix: check the name against .names.`);
    const [begin, end] = info.dataOffsets;
    const raw = this.bytes.subarray(this.header.dataStart + begin, this.header.dataStart + end);
    return { dtype: info.dtype, shape: [...info.shape], data: decodeTensorBytes(raw, info.dtype, name, this.path, false) };
  }

  /** Nothing to release; here so a buffer and a file can be used alike. */
  async close(): Promise<void> {}
}
