import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ClipwiseDataError, assertInteger } from '../errors.js';
import { CIFAR100_COARSE_CLASS_NAMES, CIFAR100_FINE_CLASS_NAMES, CIFAR10_CLASS_NAMES } from './cifar-names.js';
import { ImageDataset } from './image-dataset.js';

/** Which official binary release: 3073-byte records (CIFAR-10) or 3074-byte records (CIFAR-100). */
export type CifarVariant = 'cifar10' | 'cifar100';

const PIXELS = 3 * 32 * 32;

/** Options shared by the CIFAR binary parser and reader. */
export interface CifarBinaryOptions {
  /** Default 'cifar10'; {@link readCifarBinary} detects it from a directory's file names. */
  readonly variant?: CifarVariant;
  /** CIFAR-100 only: label with the 100 fine classes (default) or the 20 coarse superclasses. */
  readonly labelKind?: 'fine' | 'coarse';
  /** Keep at most this many images of each class, the first ones in file order. */
  readonly limitPerClass?: number;
}

/** Records of one or more binary files. */
export interface CifarRecords {
  /** N × 3 × 32 × 32 bytes, channel-first. */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
}

/** Bytes per record: label byte(s) then 3072 pixels. */
export function cifarRecordBytes(variant: CifarVariant): number {
  return variant === 'cifar100' ? PIXELS + 2 : PIXELS + 1;
}

/**
 * Parses the official CIFAR binary format (Krizhevsky 2009, cs.toronto.edu/~kriz/cifar.html).
 * CIFAR-10: 3073-byte records, 1 label byte then 1024 red, 1024 green, 1024 blue bytes (rows
 * top to bottom). CIFAR-100: 3074-byte records, a coarse then a fine label byte, then the pixels.
 * The pixel layout already is channel-first, so records are copied as they are.
 *
 * @param source file name for error messages.
 * @param counts per-class counts carried across files when `limitPerClass` is set.
 * @example
 * ```ts
 * const { images, labels } = parseCifarBinary(readFileSync('test_batch.bin'), 'test_batch.bin');
 * ```
 */
export function parseCifarBinary(
  bytes: Uint8Array,
  source: string,
  options: CifarBinaryOptions = {},
  counts: Map<number, number> = new Map(),
): CifarRecords {
  const variant = options.variant ?? 'cifar10';
  const recordBytes = cifarRecordBytes(variant);
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    const other = variant === 'cifar10' ? "CIFAR-100 (3074-byte records: pass variant: 'cifar100')" : "CIFAR-10 (3073-byte records: pass variant: 'cifar10')";
    throw new ClipwiseDataError(
      `${source}: ${bytes.length} bytes is not a whole number of ${recordBytes}-byte ${variant} records ` +
        `(${Math.floor(bytes.length / recordBytes)} records and ${bytes.length % recordBytes} bytes over). ` +
        `The file is truncated or empty (download it again), or it is ${other}.`,
    );
  }
  const labelOffset = variant === 'cifar100' && (options.labelKind ?? 'fine') === 'fine' ? 1 : 0;
  const numClasses = variant === 'cifar10' ? 10 : labelOffset === 1 ? 100 : 20;
  const limit = options.limitPerClass ?? Infinity;
  const total = bytes.length / recordBytes;
  const keep: number[] = [];
  const labels: number[] = [];
  for (let r = 0; r < total; r++) {
    const label = bytes[r * recordBytes + labelOffset];
    if (label >= numClasses) {
      throw new ClipwiseDataError(
        `${source}: record ${r} has label ${label}, outside [0, ${numClasses}) for ${variant}; the file is corrupt or of the other variant.`,
      );
    }
    const seen = counts.get(label) ?? 0;
    if (seen >= limit) continue;
    counts.set(label, seen + 1);
    keep.push(r);
    labels.push(label);
  }
  const images = new Uint8Array(keep.length * PIXELS);
  const labelBytes = recordBytes - PIXELS;
  keep.forEach((r, i) => {
    const start = r * recordBytes + labelBytes;
    images.set(bytes.subarray(start, start + PIXELS), i * PIXELS);
  });
  return { images, labels: Int32Array.from(labels) };
}

/** Class names for a variant and label kind, from a metadata text file if given, else the built-in lists. */
export function cifarClassNames(variant: CifarVariant, labelKind: 'fine' | 'coarse' = 'fine', metaText?: string): string[] {
  const builtIn = variant === 'cifar10' ? CIFAR10_CLASS_NAMES : labelKind === 'fine' ? CIFAR100_FINE_CLASS_NAMES : CIFAR100_COARSE_CLASS_NAMES;
  if (metaText === undefined) return [...builtIn];
  const names = metaText.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  return names.length === builtIn.length ? names : [...builtIn];
}

/** The batch files of a split, in the official order. */
export function cifarSplitFiles(variant: CifarVariant, split: 'train' | 'test'): string[] {
  if (variant === 'cifar100') return [`${split}.bin`];
  return split === 'test' ? ['test_batch.bin'] : [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
}

/** The metadata file naming the classes. */
export function cifarMetaFile(variant: CifarVariant, labelKind: 'fine' | 'coarse' = 'fine'): string {
  return variant === 'cifar10' ? 'batches.meta.txt' : `${labelKind}_label_names.txt`;
}

/** Options of {@link readCifarBinary}. */
export interface ReadCifarBinaryOptions extends CifarBinaryOptions {
  /** Which files of a directory to read: 'train' (default) or 'test'. Ignored for a single file. */
  readonly split?: 'train' | 'test';
}

/**
 * Reads CIFAR-10 or CIFAR-100 in the official binary format, from one `.bin` file, a list of them,
 * or a directory: `cifar-10-batches-bin` (`data_batch_1..5.bin`, `test_batch.bin`,
 * `batches.meta.txt`), `cifar-100-binary` (`train.bin`, `test.bin`, `*_label_names.txt`) or the
 * folder holding one of those. In a directory the variant is detected from the file names.
 *
 * @example
 * ```ts
 * const train = await readCifarBinary('data/cifar-10-batches-bin', { split: 'train' });
 * const test = await readCifarBinary('data/cifar-100-binary/test.bin', { variant: 'cifar100', labelKind: 'coarse' });
 * ```
 */
export async function readCifarBinary(source: string | readonly string[], options: ReadCifarBinaryOptions = {}): Promise<ImageDataset> {
  if (options.limitPerClass !== undefined) assertInteger(options.limitPerClass, 'limitPerClass', 1);
  let variant = options.variant ?? 'cifar10';
  let files: string[];
  let metaPath: string | undefined;
  if (typeof source === 'string' && (await statOrThrow(source)).isDirectory()) {
    const dir = await findCifarDir(source);
    const names = new Set(await readdir(dir));
    if (options.variant === undefined) variant = names.has('data_batch_1.bin') || !names.has('train.bin') ? 'cifar10' : 'cifar100';
    files = cifarSplitFiles(variant, options.split ?? 'train').map((f) => path.join(dir, f));
    const missing = files.filter((f) => !names.has(path.basename(f)));
    if (missing.length > 0) {
      throw new ClipwiseDataError(
        `${dir}: missing ${missing.map((f) => path.basename(f)).join(', ')} for the ${variant} ${options.split ?? 'train'} split; ` +
          `point at an unpacked cifar-10-batches-bin or cifar-100-binary folder.`,
      );
    }
    const meta = cifarMetaFile(variant, options.labelKind);
    if (names.has(meta)) metaPath = path.join(dir, meta);
  } else {
    files = typeof source === 'string' ? [source] : [...source];
  }
  const counts = new Map<number, number>();
  const parts: CifarRecords[] = [];
  for (const file of files) {
    await statOrThrow(file);
    parts.push(parseCifarBinary(await readFile(file), file, { ...options, variant }, counts));
  }
  const classNames = cifarClassNames(variant, options.labelKind, metaPath ? await readFile(metaPath, 'utf8') : undefined);
  return new ImageDataset({ ...concatRecords(parts), numClasses: classNames.length, classNames, height: 32, width: 32, channels: 3 });
}

/** Joins the records of several files. */
export function concatRecords(parts: readonly CifarRecords[]): CifarRecords {
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * PIXELS);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return { images, labels };
}

async function findCifarDir(dir: string): Promise<string> {
  for (const sub of ['cifar-10-batches-bin', 'cifar-100-binary']) {
    const candidate = path.join(dir, sub);
    if ((await stat(candidate).catch(() => null))?.isDirectory()) return candidate;
  }
  return dir;
}

async function statOrThrow(file: string) {
  try {
    return await stat(file);
  } catch (cause) {
    throw new ClipwiseDataError(`${file}: no such file or directory; give the path of a CIFAR .bin file or its folder.`, { cause });
  }
}
