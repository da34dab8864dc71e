import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ClipwiseDataError } from '../errors.js';
import { buildImageDataset, type PendingImage, type ResizeTo } from './build-image-dataset.js';
import type { ImageDataset } from './image-dataset.js';
import { checkSubsetOptions, isImageFileName, PerClassPicker, sortNames, type ImageSubsetOptions } from './image-subset.js';

/** Options of {@link readImageFolder} and `readImageArchive`. */
export interface ImageFolderOptions extends ImageSubsetOptions {
  /** Sub-folder holding the class folders, e.g. 'train' or 'test'; omit when `root` holds them directly. */
  readonly split?: string;
  /** Resize every image to this size while loading; without it all images must share one size. */
  readonly resizeTo?: ResizeTo;
}

/**
 * Reads a labelled image folder, `<root>/<split>/<class>/<file>.jpg|jpeg|png` (the torchvision
 * `ImageFolder` layout). Class indices follow the sorted class-folder names; other files are
 * ignored. Images are decoded to RGB (greyscale expanded, alpha dropped).
 *
 * @example
 * ```ts
 * const train = await readImageFolder('data/flowers', { split: 'train', limitPerClass: 50 });
 * train.classNames; // ['daisy', 'rose', ...]
 * ```
 */
export async function readImageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageDataset> {
  checkSubsetOptions(options);
  const dir = options.split === undefined ? root : path.join(root, options.split);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new ClipwiseDataError(
      `${dir}: cannot list the image folder (${(cause as Error).message}); expected <root>/<split>/<class>/*.jpg|png.`,
      { cause },
    );
  }
  const classNames = sortNames(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  if (classNames.length === 0) {
    throw new ClipwiseDataError(`${dir}: no class folders; expected one sub-folder per class holding .jpg/.jpeg/.png images.`);
  }
  const picker = new PerClassPicker<string>(options);
  for (const className of classNames) {
    const files = (await readdir(path.join(dir, className), { withFileTypes: true }))
      .filter((e) => e.isFile() && isImageFileName(e.name))
      .map((e) => e.name);
    if (files.length === 0) {
      throw new ClipwiseDataError(`${path.join(dir, className)}: class folder has no .jpg/.jpeg/.png files; add images or remove the folder.`);
    }
    for (const name of files) if (picker.wants(className, name)) picker.add(className, name, path.join(dir, className, name));
  }
  const pending: PendingImage[] = [];
  for (const [label, className] of classNames.entries()) {
    for (const { item: file } of picker.picked(className)) pending.push({ label, source: file, bytes: await readFile(file) });
  }
  return buildImageDataset(pending, classNames, options.resizeTo);
}
