import { ClipwiseModelError } from '../clipwise-model-error.js';
import { SAFETENSORS_DTYPE_BYTES, isSafetensorsDtype, type SafetensorsDtype } from './dtype.js';
import { SUPPORTED_DTYPES_TEXT, elementCount, formatShape } from './layout.js';

/** Largest JSON header accepted, as in the reference Rust implementation (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Where one tensor lives in a safetensors file. */
export interface SafetensorsTensorInfo {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  /** `[begin, end)` byte offsets relative to the first byte after the header. */
  readonly dataOffsets: readonly [number, number];
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** File path, or a label for in-memory data; used in error messages. */
  readonly source: string;
  /** Tensors by name, in order of their offsets in the file. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute file offset of the data region: 8 + the JSON header length. */
  readonly dataStart: number;
  /** Total size the file must have: `dataStart` + the end of the last tensor. */
  readonly totalBytes: number;
}

function fail(source: string, problem: string, fix: string): ClipwiseModelError {
  return new ClipwiseModelError(`${source} is not a valid safetensors file: ${problem}. Fix: ${fix}`);
}

const REDOWNLOAD = 're-download or re-save the checkpoint (in Python: safetensors.torch.save_file)';

/**
 * Reads the 8-byte little-endian header length from the first bytes of a file and checks it against
 * the file size. Returns the JSON header length N (the data starts at byte 8 + N).
 */
export function readHeaderLength(first8: Uint8Array, fileBytes: number, source: string): number {
  if (fileBytes < 8 || first8.byteLength < 8) {
    throw fail(source, `it has ${fileBytes} bytes, fewer than the 8-byte header length`, REDOWNLOAD);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) {
    throw fail(
      source,
      `the header length field says ${n} bytes; expected 2..${MAX_HEADER_BYTES}` +
        ' (is this really a .safetensors file, not a PyTorch .bin or a Git LFS pointer?)',
      REDOWNLOAD,
    );
  }
  const headerBytes = Number(n);
  if (8 + headerBytes > fileBytes) {
    throw fail(
      source,
      `the header length field says ${headerBytes} bytes but the file has only ${fileBytes - 8} bytes after it (truncated?)`,
      REDOWNLOAD,
    );
  }
  return headerBytes;
}

/**
 * Parses and validates the JSON header (`headerJson`, the N bytes after the length field) of a file
 * of `fileBytes` bytes. Checks, naming the tensor at fault: UTF-8 JSON object; known dtype; shape of
 * non-negative integers; offsets `[begin, end]` with `end - begin = prod(shape) * dtype size`; tensors
 * packed back to back from offset 0 with no gap or overlap (as the spec requires); the data region
 * ending exactly at the end of the file (not truncated, no trailing bytes). Unknown keys inside a
 * tensor entry are ignored, as in the reference implementation.
 *
 * @param headerJson the N header bytes (after the 8-byte length; see {@link readHeaderLength})
 * @param fileBytes size of the whole file, to check the data region against
 * @param source file name or label used in error messages
 * @example
 * ```ts
 * import { readHeaderLength, parseSafetensorsHeader } from '@clipwise/models';
 * // A remote checkpoint's header from two HTTP range requests, without its tensor data
 * // (fetchRange(url, begin, end) is your helper returning a Uint8Array).
 * const n = readHeaderLength(await fetchRange(url, 0, 8), fileSize, url);
 * const header = parseSafetensorsHeader(await fetchRange(url, 8, 8 + n), fileSize, url);
 * header.tensors.get('wte.weight'); // { dtype: 'F32', shape: [50257, 768], dataOffsets: [...] }
 * ```
 */
export function parseSafetensorsHeader(headerJson: Uint8Array, fileBytes: number, source: string): SafetensorsHeader {
  const dataStart = 8 + headerJson.byteLength;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerJson);
  } catch (cause) {
    throw new ClipwiseModelError(`${source} is not a valid safetensors file: the JSON header is not valid UTF-8. Fix: ${REDOWNLOAD}`, {
      cause,
    });
  }
  if (!text.startsWith('{')) {
    throw fail(source, `the JSON header must start with '{' but starts with ${JSON.stringify(text.slice(0, 16))}`, REDOWNLOAD);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ClipwiseModelError(
      `${source} is not a valid safetensors file: the header is not valid JSON (${(cause as Error).message}). Fix: ${REDOWNLOAD}`,
      { cause },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail(source, 'the JSON header is not an object', REDOWNLOAD);
  }

  const metadata: Record<string, string> = Object.create(null);
  const entries: Array<[string, SafetensorsTensorInfo]> = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw fail(source, '__metadata__ must be an object of strings', 'write metadata as string key/value pairs');
      }
      for (const [key, v] of Object.entries(value as object)) {
        if (typeof v !== 'string') {
          throw fail(source, `__metadata__['${key}'] is ${JSON.stringify(v)}, expected a string`, 'write metadata values as strings');
        }
        metadata[key] = v;
      }
      continue;
    }
    entries.push([name, parseTensorInfo(name, value, source)]);
  }

  // The spec requires tensors to tile the data region: sort by offset, then walk it.
  entries.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let position = 0;
  let previous: string | undefined;
  for (const [name, info] of entries) {
    const [begin, end] = info.dataOffsets;
    if (begin > position) {
      throw fail(
        source,
        `tensor '${name}' starts at data offset ${begin} but ${previous ? `'${previous}' ends` : 'the data region starts'} at ${position}` +
          ` (a gap of ${begin - position} bytes; tensors must be packed back to back)`,
        REDOWNLOAD,
      );
    }
    if (begin < position) {
      throw fail(
        source,
        `tensor '${name}' (data_offsets [${begin}, ${end}]) overlaps tensor '${previous}' which ends at ${position}`,
        REDOWNLOAD,
      );
    }
    position = end;
    previous = name;
  }

  const dataBytes = fileBytes - dataStart;
  if (position > dataBytes) {
    const cut = entries.find(([, info]) => info.dataOffsets[1] > dataBytes)!;
    throw fail(
      source,
      `the file is truncated: tensor '${cut[0]}' needs data bytes [${cut[1].dataOffsets[0]}, ${cut[1].dataOffsets[1]})` +
        ` but only ${dataBytes} data bytes are present (file is ${fileBytes} bytes, expected ${dataStart + position})`,
      REDOWNLOAD,
    );
  }
  if (position < dataBytes) {
    throw fail(
      source,
      `${dataBytes - position} unexpected bytes follow the last tensor${previous ? ` '${previous}'` : ''}` +
        ` (file is ${fileBytes} bytes, the header accounts for ${dataStart + position})`,
      REDOWNLOAD,
    );
  }
  return { source, tensors: new Map(entries), metadata, dataStart, totalBytes: dataStart + position };
}

function parseTensorInfo(name: string, value: unknown, source: string): SafetensorsTensorInfo {
  const where = `tensor '${name}'`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(source, `${where} has header entry ${JSON.stringify(value)}, expected {dtype, shape, data_offsets}`, REDOWNLOAD);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) {
    throw fail(
      source,
      `${where} has unknown dtype ${JSON.stringify(dtype)}; supported: ${SUPPORTED_DTYPES_TEXT}`,
      'convert the tensor to a supported dtype before saving (e.g. tensor.float() in PyTorch)',
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(source, `${where} has shape ${JSON.stringify(shape)}, expected an array of non-negative integers`, REDOWNLOAD);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw fail(
      source,
      `${where} has data_offsets ${JSON.stringify(offsets)}, expected [begin, end] with 0 <= begin <= end`,
      REDOWNLOAD,
    );
  }
  const count = elementCount(shape);
  const expectedBytes = count === undefined ? undefined : count * SAFETENSORS_DTYPE_BYTES[dtype];
  const [begin, end] = offsets as [number, number];
  if (expectedBytes === undefined || end - begin !== expectedBytes) {
    throw fail(
      source,
      `${where} has data_offsets [${begin}, ${end}] (${end - begin} bytes) but dtype ${dtype} with shape ` +
        `${formatShape(shape)} needs ${expectedBytes ?? 'more than 2^53'} bytes`,
      REDOWNLOAD,
    );
  }
  return { dtype, shape: [...shape], dataOffsets: [begin, end] };
}
