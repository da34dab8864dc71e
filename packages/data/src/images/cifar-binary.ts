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
