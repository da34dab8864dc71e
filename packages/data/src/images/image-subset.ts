import { ClipwiseDataError, assertInteger } from '../errors.js';

/** How to take a deterministic part of an image collection without decoding the rest. */
export interface ImageSubsetOptions {
  /** Keep at most this many images per class: the first ones by file name (code-unit order). */
  readonly limitPerClass?: number;
  /**
   * Keep each image with this probability, decided by a hash of `seed` and its `<class>/<file>`
   * path, so the same images are chosen whatever the archive order, and by folder and archive alike.
   * Applied before `limitPerClass`.
   */
  readonly fraction?: number;
  /** Seed of the `fraction` hash; default 0. */
  readonly seed?: number;
}

/** Throws a ClipwiseDataError for out-of-range subset options. */
export function checkSubsetOptions(options: ImageSubsetOptions): void {
  if (options.limitPerClass !== undefined) assertInteger(options.limitPerClass, 'limitPerClass', 1);
  if (options.fraction !== undefined && !(options.fraction > 0 && options.fraction <= 1)) {
    throw new ClipwiseDataError(`fraction must be in (0, 1], got ${String(options.fraction)}; e.g. 0.1 keeps about a tenth of each class.`);
  }
  if (options.seed !== undefined) assertInteger(options.seed, 'seed', 0);
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  // Final avalanche (murmur3 fmix32) so nearby names spread over [0, 2^32).
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether the `fraction` rule keeps `<className>/<fileName>`. */
export function keptByFraction(className: string, fileName: string, options: ImageSubsetOptions): boolean {
  if (options.fraction === undefined || options.fraction >= 1) return true;
  return fnv1a(`${options.seed ?? 0}:${className}/${fileName}`) / 4294967296 < options.fraction;
}

/**
 * Streams candidate images and keeps, per class, the `limit` smallest file names seen so far, so a
 * subset is chosen in one pass with bounded memory whatever order the files come in.
 */
export class PerClassPicker<T> {
  private readonly kept = new Map<string, { name: string; item: T }[]>();

  constructor(private readonly options: ImageSubsetOptions) {}

  /** Whether an image would be kept now; call before reading its bytes. */
  wants(className: string, fileName: string): boolean {
    if (!keptByFraction(className, fileName, this.options)) return false;
    const list = this.kept.get(className);
    const limit = this.options.limitPerClass ?? Infinity;
    return list === undefined || list.length < limit || fileName < list[list.length - 1].name;
  }

  /** Adds an image that {@link wants} accepted, evicting the largest name if over the limit. */
  add(className: string, fileName: string, item: T): void {
    let list = this.kept.get(className);
    if (list === undefined) this.kept.set(className, (list = []));
    let at = list.length;
    while (at > 0 && list[at - 1].name > fileName) at--;
    list.splice(at, 0, { name: fileName, item });
    if (list.length > (this.options.limitPerClass ?? Infinity)) list.pop();
  }

  /** Kept images of a class, by file name. */
  picked(className: string): readonly { name: string; item: T }[] {
    return this.kept.get(className) ?? [];
  }
}

/** Sorts names in code-unit order (like `ls` in the C locale), the order class indices follow. */
export function sortNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** True for .jpg, .jpeg and .png names (any case). */
export function isImageFileName(name: string): boolean {
  return /\.(jpe?g|png)$/i.test(name);
}
