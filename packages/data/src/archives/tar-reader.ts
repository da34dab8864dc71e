import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { ClipwiseDataError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';

/** What a tar header says about an entry. */
export interface TarHeader {
  /** Full path inside the archive ('/'-separated, without a leading './'). */
  readonly path: string;
  readonly size: number;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
}

/** An entry with its contents when they were asked for. */
export interface TarEntry extends TarHeader {
  /** The file's bytes if `wantData` returned true for it, else null (skipped without copying). */
  readonly data: Uint8Array | null;
}

/** Options of {@link readTarEntries}. */
export interface ReadTarOptions {
  /** Which entries' contents to keep; default: every regular file. */
  readonly wantData?: (header: TarHeader) => boolean;
  /** Archive name for error messages. */
  readonly source?: string;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function cString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(start, end));
}

/** Numeric header field: octal text, or base-256 (GNU) when the high bit of the first byte is set. */
function numberField(bytes: Uint8Array, start: number, length: number): number {
  if (bytes[start] & 0x80) {
    let value = bytes[start] & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + bytes[i];
    return value;
  }
  const text = cString(bytes, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumMatches(block: Uint8Array): boolean {
  const stored = numberField(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Pax extended header records: "<length> <key>=<value>\n". */
function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    let space = at;
    while (space < data.length && data[space] !== 0x20) space++;
    const length = parseInt(decoder.decode(data.subarray(at, space)), 10);
    if (!(length > 0)) break;
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

function normalisePath(p: string): string {
  return p.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

/**
 * Streams the entries of a tar archive (POSIX ustar, with GNU 'L' long names, GNU base-256 sizes and
 * pax 'x' path/size records) from chunks of bytes, reading 512-byte blocks as they arrive. Contents
 * of unwanted entries are skipped, never copied, so picking a few files out of a large archive holds
 * only those files in memory.
 *
 * @example
 * ```ts
 * for await (const entry of readTarEntries(openArchive('images.tar.gz'), { wantData: (h) => h.path.endsWith('.png') })) {
 *   if (entry.data) console.log(entry.path, entry.data.length);
 * }
 * ```
 */
export async function* readTarEntries(chunks: AsyncIterable<Uint8Array>, options: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const source = options.source ?? 'tar archive';
  const wantData = options.wantData ?? ((h: TarHeader) => h.type === 'file');
  const queue = new ByteQueue(chunks);
  let longPath: string | undefined;
  let pax = new Map<string, string>();
  let blockIndex = 0;
  try {
    for (;;) {
      const block = await queue.take(BLOCK, true);
      if (block === null) {
        if (blockIndex === 0) throw new ClipwiseDataError(`${source}: empty archive; expected a tar (optionally gzip-compressed) file.`);
        return; // archives without the two zero end blocks still end cleanly at a header boundary
      }
      if (block.every((b) => b === 0)) return;
      if (!checksumMatches(block)) {
        throw new ClipwiseDataError(
          `${source}: bad tar header checksum at byte ${blockIndex * BLOCK}; the file is not a tar archive ` +
            `(or not gzip-compressed tar) or is corrupt: check it with \`tar tzf\`.`,
        );
      }
      const typeFlag = String.fromCharCode(block[156] || 0x30);
      let size = numberField(block, 124, 12);
      let name = cString(block, 0, 100);
      if (cString(block, 257, 5) === 'ustar') {
        const prefix = cString(block, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }
      blockIndex++;
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (typeFlag === 'L' || typeFlag === 'x' || typeFlag === 'g' || typeFlag === 'K') {
        const data = await queue.take(padded);
        if (data === null) throw truncated(source, name);
        blockIndex += padded / BLOCK;
        if (typeFlag === 'L') longPath = cString(data, 0, size);
        else if (typeFlag === 'x') pax = parsePax(data.subarray(0, size));
        continue;
      }
      if (pax.has('size')) size = Number(pax.get('size'));
      const header: TarHeader = {
        path: normalisePath(pax.get('path') ?? longPath ?? name),
        size,
        type: typeFlag === '0' || typeFlag === '7' ? 'file' : typeFlag === '5' ? 'directory' : typeFlag === '2' ? 'symlink' : 'other',
      };
      longPath = undefined;
      pax = new Map();
      const dataBlocks = Math.ceil(size / BLOCK);
      let data: Uint8Array | null = null;
      if (header.type === 'file' && wantData(header)) {
        const withPadding = await queue.take(dataBlocks * BLOCK, true);
        if (withPadding === null) throw truncated(source, header.path);
        data = withPadding.slice(0, size);
      } else if (!(await queue.skip(dataBlocks * BLOCK))) {
        throw truncated(source, header.path);
      }
      blockIndex += dataBlocks;
      yield { ...header, data };
    }
  } finally {
    await queue.close();
  }
}

function truncated(source: string, entry: string): ClipwiseDataError {
  return new ClipwiseDataError(`${source}: archive ends inside entry ${entry}; the file is truncated, download or copy it again.`);
}

/**
 * Bytes of a `.tar`, `.tar.gz` or `.tgz` file as a stream; gzip is detected from the file's magic
 * bytes, not its name, and decompressed on the fly with node's zlib.
 */
export async function* openArchive(file: string): AsyncGenerator<Uint8Array> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    throw new ClipwiseDataError(`${file}: cannot open archive (${(cause as Error).message}); check the path.`, { cause });
  }
  const magic = new Uint8Array(2);
  await handle.read(magic, 0, 2, 0);
  await handle.close();
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  const stream = gzip ? raw.pipe(createGunzip({ chunkSize: 1 << 18 })) : raw;
  if (gzip) raw.on('error', (e) => stream.destroy(e));
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (cause) {
    throw new ClipwiseDataError(`${file}: cannot read archive (${(cause as Error).message}); the file is corrupt or truncated.`, { cause });
  } finally {
    stream.destroy();
    raw.destroy();
  }
}
