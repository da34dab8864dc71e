import { openArchive, readTarEntries, type TarHeader } from '../archives/tar-reader.js';
import { ClipwiseDataError } from '../errors.js';
import { buildImageDataset, type PendingImage } from './build-image-dataset.js';
import {
  cifarClassNames,
  cifarMetaFile,
  cifarSplitFiles,
  concatRecords,
  parseCifarBinary,
  type CifarRecords,
  type CifarVariant,
} from './cifar-binary.js';
import { ImageDataset } from './image-dataset.js';
import type { ImageFolderOptions } from './image-folder.js';
import { checkSubsetOptions, isImageFileName, PerClassPicker, sortNames } from './image-subset.js';

/** Options of {@link readImageArchive}. */
export interface ImageArchiveOptions extends ImageFolderOptions {
  /** Binary layout only: the CIFAR variant; default detected from the file names. */
  readonly variant?: CifarVariant;
  /** Binary layout, CIFAR-100 only: fine (default) or coarse labels. */
  readonly labelKind?: 'fine' | 'coarse';
}

const CIFAR_BINARY_NAME = /^(data_batch_[1-5]\.bin|test_batch\.bin|train\.bin|test\.bin|batches\.meta\.txt|(fine|coarse)_label_names\.txt)$/;

/** Class and file of an image entry under the layout `[...]/<split>/<class>/<file>`, or null. */
function classOf(parts: readonly string[], split: string | undefined): string | null {
  const n = parts.length;
  if (split === undefined) return n >= 2 ? parts[n - 2] : null;
  return n >= 3 && parts[n - 3] === split ? parts[n - 2] : null;
}

/**
 * Reads an image data set from a `.tar.gz` (or `.tar`) archive in one streaming pass, holding only
 * the chosen files. Two layouts are recognised:
 * - image folders, `[prefix/]<split>/<class>/<file>.jpg|jpeg|png` (as {@link readImageFolder});
 *   class indices follow the sorted class names, images are ordered by class then file name, and
 *   `limitPerClass` / `fraction` pick the subset before anything is decoded;
 * - the official CIFAR binary release (`cifar-10-binary.tar.gz`, `cifar-100-binary.tar.gz`),
 *   `split` 'train' (default) or 'test'; `limitPerClass` keeps the first records of each class.
 *
 * @example
 * ```ts
 * const ds = await readImageArchive('../shared/data/cifar10-jpeg.tar.gz', { split: 'test', limitPerClass: 100 });
 * ds.size;       // 1000
 * ds.classNames; // ['airplane', 'automobile', ...]
 * ```
 */
export async function readImageArchive(file: string, options: ImageArchiveOptions = {}): Promise<ImageDataset> {
  checkSubsetOptions(options);
  const picker = new PerClassPicker<Uint8Array>(options);
  const classes = new Set<string>();
  const binary = new Map<string, Uint8Array>();
  const binarySplit = options.split ?? 'train';
  const wantBinary = (name: string) =>
    CIFAR_BINARY_NAME.test(name) &&
    (name.endsWith('.txt') || cifarSplitFiles('cifar10', binarySplit as 'train').includes(name) || name === `${binarySplit}.bin`);

  const wantData = (h: TarHeader): boolean => {
    const parts = h.path.split('/');
    const name = parts[parts.length - 1];
    if (wantBinary(name)) return true;
    if (!isImageFileName(name)) return false;
    const className = classOf(parts, options.split);
    if (className === null) return false;
    classes.add(className);
    return picker.wants(className, name);
  };
  for await (const entry of readTarEntries(openArchive(file), { wantData, source: file })) {
    if (entry.data === null) continue;
    const parts = entry.path.split('/');
    const name = parts[parts.length - 1];
    if (wantBinary(name)) binary.set(name, entry.data);
    else picker.add(classOf(parts, options.split)!, name, entry.data);
  }

  if (classes.size > 0) {
    const classNames = sortNames(classes);
    const pending: PendingImage[] = [];
    classNames.forEach((className, label) => {
      for (const { name, item } of picker.picked(className)) {
        pending.push({ label, source: `${file}:${options.split ? `${options.split}/` : ''}${className}/${name}`, bytes: item });
      }
    });
    return buildImageDataset(pending, classNames, options.resizeTo);
  }
  if ([...binary.keys()].some((n) => n.endsWith('.bin'))) return fromBinary(file, binary, binarySplit, options);
  throw new ClipwiseDataError(
    `${file}: found no images under ${options.split === undefined ? '<class>/' : `${options.split}/<class>/`} and no CIFAR binary ` +
      `batches for split '${binarySplit}'; expected <split>/<class>/*.jpg|png or cifar-10-batches-bin/*.bin. ` +
      `List the archive with \`tar tzf\` and pass the matching split.`,
  );
}

function fromBinary(file: string, binary: Map<string, Uint8Array>, split: string, options: ImageArchiveOptions): ImageDataset {
  if (split !== 'train' && split !== 'test') {
    throw new ClipwiseDataError(`${file}: split '${split}' is not a CIFAR binary split; use 'train' or 'test'.`);
  }
  const variant = options.variant ?? (binary.has('data_batch_1.bin') || binary.has('test_batch.bin') ? 'cifar10' : 'cifar100');
  const names = cifarSplitFiles(variant, split);
  const missing = names.filter((n) => !binary.has(n));
  if (missing.length > 0) {
    throw new ClipwiseDataError(`${file}: missing ${missing.join(', ')} for the ${variant} ${split} split; the archive is incomplete.`);
  }
  const counts = new Map<number, number>();
  const parts: CifarRecords[] = names.map((n) => parseCifarBinary(binary.get(n)!, `${file}:${n}`, { ...options, variant }, counts));
  const meta = binary.get(cifarMetaFile(variant, options.labelKind));
  const classNames = cifarClassNames(variant, options.labelKind, meta ? new TextDecoder().decode(meta) : undefined);
  return new ImageDataset({ ...concatRecords(parts), numClasses: classNames.length, classNames, height: 32, width: 32, channels: 3 });
}

