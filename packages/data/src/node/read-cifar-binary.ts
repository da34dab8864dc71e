import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ClipwiseDataError, assertInteger } from '../errors.js';
import { cifarClassNames, cifarMetaFile, cifarSplitFiles, concatRecords, parseCifarBinary, type CifarBinaryOptions, type CifarRecords } from '../images/cifar-binary.js';
import { ImageDataset } from '../images/image-dataset.js';

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
