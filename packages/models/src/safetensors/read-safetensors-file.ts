import { open, type FileHandle } from 'node:fs/promises';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { decodeTensorBytes } from './decode-tensor.js';
import type { SafetensorsTensor } from './tensor.js';
import { parseSafetensorsHeader, readHeaderLength, type SafetensorsHeader, type SafetensorsTensorInfo } from './header.js';

/** A tensor yielded by iterating a {@link SafetensorsFile}. */
export interface NamedSafetensorsTensor extends SafetensorsTensor {
  readonly name: string;
}

/**
 * An open safetensors file. Only the header is read on open; each tensor is read from disk when
 * asked for, so a multi-gigabyte checkpoint never has to fit in memory at once. Close it when done.
 */
export class SafetensorsFile implements AsyncIterable<NamedSafetensorsTensor> {
  private closed = false;

  /** Use {@link openSafetensors}. */
  constructor(
    private readonly handle: FileHandle,
    /** The validated header: names, dtypes, shapes, offsets and `__metadata__`. */
    readonly header: SafetensorsHeader,
  ) {}

  /** Path the file was opened from. */
  get path(): string {
    return this.header.source;
  }

  /** Tensor names, in file order. */
  get names(): string[] {
    return [...this.header.tensors.keys()];
  }

  /** The `__metadata__` string map. */
  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** Dtype, shape and offsets of `name`; throws a {@link ClipwiseModelError} naming it if absent. */
  info(name: string): SafetensorsTensorInfo {
    const info = this.header.tensors.get(name);
    if (!info) {
      const names = this.names;
      throw new ClipwiseModelError(
        `tensor '${name}' is not in ${this.path} (it holds ${names.length} tensors: ` +
          `${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}). Fix: check the name against file.names.`,
      );
    }
    return info;
  }

  /** The tensor's raw little-endian bytes, exactly as stored. */
  async readTensorBytes(name: string): Promise<Uint8Array> {
    const [begin, end] = this.info(name).dataOffsets;
    if (this.closed) {
      throw new ClipwiseModelError(`cannot read tensor '${name}': ${this.path} was closed. Fix: read before close().`);
    }
    const bytes = new Uint8Array(end - begin);
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesRead } = await this.handle.read(bytes, done, bytes.byteLength - done, this.header.dataStart + begin + done);
      if (bytesRead === 0) {
        throw new ClipwiseModelError(
          `tensor '${name}' in ${this.path}: the file ended after ${done} of ${bytes.byteLength} bytes; it was ` +
            'truncated or replaced after it was opened. Fix: do not modify a checkpoint while it is being read.',
        );
      }
      done += bytesRead;
    }
    return bytes;
  }

  /**
   * Reads one tensor (and only its bytes) from disk and decodes it: float dtypes to `Float32Array`,
   * integer dtypes to `Int32Array` (see {@link SafetensorsTensorData} for the exact rules).
   */
  async readTensor(name: string): Promise<SafetensorsTensor> {
    const info = this.info(name);
    const bytes = await this.readTensorBytes(name);
    return { dtype: info.dtype, shape: [...info.shape], data: decodeTensorBytes(bytes, info.dtype, name, this.path, true) };
  }

  /** Reads the tensors one at a time, in file order (sequential disk access). */
  async *[Symbol.asyncIterator](): AsyncIterator<NamedSafetensorsTensor> {
    for (const name of this.header.tensors.keys()) {
      yield { name, ...(await this.readTensor(name)) };
    }
  }

  /** Closes the file; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/**
 * Opens a safetensors file and validates its header (see {@link parseSafetensorsHeader} for the
 * checks) without reading any tensor data.
 *
 * @example
 * ```ts
 * import { openSafetensors } from '@clipwise/models/node';
 * const file = await openSafetensors('gpt2/model.safetensors');
 * try {
 *   const wte = await file.readTensor('wte.weight'); // { dtype: 'F32', shape: [50257, 768], data: Float32Array }
 *   for await (const t of file) console.log(t.name, t.shape);
 * } finally {
 *   await file.close();
 * }
 * ```
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new ClipwiseModelError(
      `cannot open safetensors file ${path}: ${(cause as Error).message}. Fix: check the path and its permissions.`,
      { cause },
    );
  }
  try {
    const { size } = await handle.stat();
    const first8 = new Uint8Array(8);
    if (size >= 8) await readFully(handle, first8, 0, path);
    const headerLength = readHeaderLength(first8, size, path);
    const json = new Uint8Array(headerLength);
    await readFully(handle, json, 8, path);
    return new SafetensorsFile(handle, parseSafetensorsHeader(json, size, path));
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function readFully(handle: FileHandle, into: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new ClipwiseModelError(
        `${path} ended at byte ${position + done} while its header was being read; it was truncated or replaced ` +
          'after it was opened. Fix: do not modify a checkpoint while it is being read.',
      );
    done += bytesRead;
  }
}
