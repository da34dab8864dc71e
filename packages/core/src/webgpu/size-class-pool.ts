/**
 * A buffer pool for TF.js's webgpu backend that rounds every request up to a size class, so a freed
 * buffer serves any later request of its class instead of only one of its exact byte size, and that
 * gives back buffers a whole step left idle. TF.js's own pool keys buffers by exact size and never
 * frees one: a step with many tensor shapes (ViT-B/16: T = 197 and 196, heads, patches) keeps a
 * buffer of every size at its own high-water mark, and Poisson batches add new sizes every step.
 *
 * Classes: up to 4 KiB the next power of two (at least 16 bytes); above, multiples of 2^k / S within
 * [2^k, 2^(k+1)) (S = `classSteps`, default 16), so a request wastes at most 1/S of its bytes; never
 * above the binding limit. 16 rather than 8: replaying ViT-B/16 B32's allocations (bench/pool-trace.ts,
 * bench/pool-replay.ts) put its pool peaks at 5723 / 5920 MiB (non-private / all-layer) against 5947 /
 * 6152 with 8; finer classes save more (32: 5611 / 5805) but share less between a Poisson batch's sizes.
 */

/** The device surface the pool uses (a GPUDevice, or a fake in tests). */
export interface PoolDevice {
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): PoolBuffer;
}

export interface PoolBuffer {
  readonly size: number;
  readonly usage: number;
  destroy(): void;
}

/**
 * What the pool knows of a buffer it made, kept with it from creation on: its bytes and usage (read
 * here rather than from the buffer, whose getters are native calls, about 0.14 µs each on
 * Dawn's Node bindings, several an acquire and release, a thousand of those a training step), its
 * creation serial, and the generation it was last released in.
 */
interface PoolEntry {
  readonly buffer: PoolBuffer;
  readonly bytes: number;
  readonly usage: number;
  readonly serial: number;
  generation: number;
}

/** Free buffers below this stay when a pool that fits up is trimmed (`releaseIdle`). */
const FIT_UP_TRIM_FLOOR = 2 ** 20;

/** Sub-steps per power of two above 4 KiB by default (waste ≤ 1/16 of a request). */
const STEPS = 16;
const SMALL = 4096;

/**
 * Whether `steps` is a class count the pool takes (`SizeClassPoolOptions.classSteps`): a power of two from 1 to 64.
 *
 * @example
 * isPoolClassSteps(16); // true
 */
export function isPoolClassSteps(steps: number): boolean {
  return Number.isInteger(Math.log2(steps)) && steps >= 1 && steps <= 64;
}

function checkSteps(steps: number): void {
  if (!isPoolClassSteps(steps)) throw new Error(`size-class pool: classSteps must be a power of two from 1 to 64, got ${steps}`);
}

/**
 * The bytes the pool allocates for a request of `bytes`: its size class (`steps` classes per power of
 * two above 4 KiB), capped at `limit` (the device's largest buffer binding; a request above it keeps
 * its exact size).
 *
 * @example
 * sizeClassBytes(19_365_888); // 19_922_944: ViT's [6304, 768] and [6272, 768] share a class
 * sizeClassBytes(19_365_888, undefined, 8); // 20_971_520: so they do with 8 classes a power of two
 */
export function sizeClassBytes(bytes: number, limit = 2 ** 31 - 4, steps = STEPS): number {
  checkSteps(steps);
  return classBytes(bytes, limit, steps);
}

/** `sizeClassBytes` with `steps` already checked (the pool checks its own once). */
function classBytes(bytes: number, limit: number, steps: number): number {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`sizeClassBytes: bytes must be a non-negative number, got ${bytes}`);
  if (bytes > limit) return bytes;
  if (bytes <= 16) return 16;
  if (bytes <= SMALL) return 2 ** Math.ceil(Math.log2(bytes));
  const step = 2 ** Math.floor(Math.log2(bytes - 1)) / steps;
  return Math.min(Math.ceil(bytes / step) * step, Math.max(limit - (limit % 16), bytes));
}

export interface SizeClassPoolOptions {
  /** Largest binding the device allows (`limits.maxStorageBufferBindingSize`). */
  readonly limit?: number;
  /** Size classes per power of two above 4 KiB (a power of two, 1–64; default 16): more waste less of a request, and share less. */
  readonly classSteps?: number;
  /** Most bytes kept free for reuse; a release beyond it destroys the buffer. Default: no cap. */
  readonly maxFreeBytes?: number;
  /**
   * Fit up (`SizeClassBufferPool.fitUp`): an acquire whose class has no free buffer takes the smallest
   * free one of its usage up to this many times its class's bytes (1, the default: its class only).
   */
  readonly fitUp?: number;
}

/**
 * Whether `ratio` is a fit-up ratio the pool takes: a finite number of at least 1.
 *
 * @example
 * isPoolFitUp(256); // true
 */
export function isPoolFitUp(ratio: number): boolean {
  return Number.isFinite(ratio) && ratio >= 1;
}

function checkFitUp(ratio: number): void {
  if (!isPoolFitUp(ratio)) throw new Error(`size-class pool: fitUp must be a finite number of at least 1, got ${ratio}`);
}

/** Byte counts of the pool: now and the high-water marks since `resetPeaks`. */
export interface PoolStats {
  /** Bytes of buffers in use (class sizes). */
  readonly inUse: number;
  /** Bytes of every buffer the pool holds, in use or free: what the device sees. */
  readonly allocated: number;
  readonly peakInUse: number;
  readonly peakAllocated: number;
}

/**
 * Drop-in for tfjs-backend-webgpu 4.x's `BufferManager` (same method names and counters) with size
 * classes, O(1) release, peaks and idle release. Buffers it did not create (acquired before it was
 * installed) are destroyed when released.
 */
export class SizeClassBufferPool {
  numBytesUsed = 0;
  numBytesAllocated = 0;
  peakBytesUsed = 0;
  peakBytesAllocated = 0;
  private numFree = 0;
  private freeBytes = 0;
  /**
   * Free buffers by class key, each with the generation it was last released in and its creation
   * serial; a list is kept in decreasing serial order, so an acquire takes the oldest free buffer.
   */
  private readonly free = new Map<number, PoolEntry[]>();
  /** By usage, the class sizes (ascending) whose free lists are not empty: where a fit up looks (kept while `fitUp` > 1). */
  private readonly freeSizes = new Map<number, number[]>();
  private fitUpRatio: number;
  /** Buffers in use, with what the pool knows of them. */
  private readonly used = new Map<PoolBuffer, PoolEntry>();
  private nextSerial = 0;
  private generation = 0;
  private readonly steps: number;

  constructor(
    private readonly device: PoolDevice,
    private readonly options: SizeClassPoolOptions = {},
  ) {
    this.steps = options.classSteps ?? STEPS;
    checkSteps(this.steps);
    this.fitUpRatio = options.fitUp ?? 1;
    checkFitUp(this.fitUpRatio);
  }

  /**
   * How far up an acquire may reach when its class has no free buffer: the smallest free buffer of its
   * usage up to `fitUp` times its class's bytes, never one above the binding limit nor a mappable one
   * (1: its class only, the default). A training run's micro-batches change shape (Poisson batch sizes, lengths cut to the
   * batch): with a fit up, a smaller shape's tensors take the free buffers a larger one left instead of
   * creating their own. A buffer taken so counts its whole size in use.
   */
  get fitUp(): number {
    return this.fitUpRatio;
  }

  set fitUp(ratio: number) {
    checkFitUp(ratio);
    this.fitUpRatio = ratio;
    // the free classes by usage are kept only while fitting up (no cost on the default path)
    this.freeSizes.clear();
    if (ratio > 1) for (const [k, list] of this.free) if (list.length > 0) this.noteFilled(sizeOfKey(k), usageOfKey(k));
  }

  acquireBuffer(size: number, usage: number, mappedAtCreation = false, reuse = true): PoolBuffer {
    const limit = this.options.limit ?? 2 ** 31 - 4;
    const bytes = classBytes(size, limit, this.steps);
    let list = reuse ? this.free.get(key(bytes, usage)) : undefined;
    if (reuse && !mappedAtCreation && !list?.length && this.fitUpRatio > 1 && bytes <= limit && (usage & MAPPABLE) === 0) list = this.fitUpList(bytes, usage, limit);
    let entry = list?.pop();
    if (entry) {
      if (list!.length === 0 && this.fitUpRatio > 1) this.noteEmpty(entry.bytes, usage);
      this.numFree--;
      this.freeBytes -= entry.bytes;
    } else {
      const buffer = this.device.createBuffer({ size: bytes, usage, mappedAtCreation });
      entry = { buffer, bytes, usage, serial: this.nextSerial++, generation: 0 };
      this.numBytesAllocated += bytes;
      this.peakBytesAllocated = Math.max(this.peakBytesAllocated, this.numBytesAllocated);
    }
    this.used.set(entry.buffer, entry);
    this.numBytesUsed += entry.bytes;
    this.peakBytesUsed = Math.max(this.peakBytesUsed, this.numBytesUsed);
    return entry.buffer;
  }

  releaseBuffer(buffer: PoolBuffer, reuse = true): void {
    const entry = this.used.get(buffer);
    if (entry === undefined || !this.used.delete(buffer)) {
      // not ours (made before the pool was installed) or already released: it cannot be pooled by class
      buffer.destroy();
      return;
    }
    const { bytes, serial } = entry;
    this.numBytesUsed -= bytes;
    const cap = this.options.maxFreeBytes ?? Infinity;
    if (!reuse || this.freeBytes + bytes > cap) {
      buffer.destroy();
      this.numBytesAllocated -= bytes;
      return;
    }
    const k = key(bytes, entry.usage);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    if (list.length === 0 && this.fitUpRatio > 1) this.noteFilled(bytes, entry.usage);
    // The oldest free buffer is taken first, whatever order buffers came back in: a step that
    // acquires and releases the same way as the one before then gets the same buffers, so the
    // bind groups of its launches are the same and `useLeanDispatch` reuses them (a LIFO list
    // hands out a different permutation of the free buffers every step).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.serial > serial) lo = mid + 1;
      else hi = mid;
    }
    entry.generation = this.generation;
    list.splice(lo, 0, entry);
    this.numFree++;
    this.freeBytes += bytes;
  }

  /**
   * Ends a step: destroys the free buffers no acquire took since the previous call (idle a whole
   * step) and then, while the free bytes exceed `keepFreeBytes`, the largest remaining. Returns the
   * bytes given back to the device. A pool that fits up (`fitUp` > 1) trims by `releaseSmallest`
   * instead, sparing buffers under 1 MiB: its largest free buffers are the ones that serve the most
   * requests, idle or not, and its small ones are many, cheap to keep and costly to create again.
   */
  releaseIdle(keepFreeBytes = Infinity): number {
    if (this.fitUpRatio > 1) return this.releaseSmallest(keepFreeBytes, FIT_UP_TRIM_FLOOR);
    return this.releaseFree(keepFreeBytes, true, 'largest');
  }

  /**
   * Destroys free buffers of at least `floorBytes`, the smallest classes first, while more than
   * `keepFreeBytes` stay free, idle or not: the trim for a pool that fits up (`fitUp`), whose largest
   * free buffers serve the most requests, and whose small ones are many and cheap to keep (a floor
   * spares them). Returns the bytes given back to the device.
   */
  releaseSmallest(keepFreeBytes: number, floorBytes = 0): number {
    return this.releaseFree(keepFreeBytes, false, 'smallest', floorBytes);
  }

  private releaseFree(keepFreeBytes: number, idleFirst: boolean, dropFirst: 'largest' | 'smallest', floorBytes = 0): number {
    let freed = 0;
    const drop = (k: number, keep: (e: PoolEntry) => boolean) => {
      const list = this.free.get(k)!;
      const kept = list.filter((e) => {
        if (keep(e)) return true;
        e.buffer.destroy();
        freed += e.bytes;
        this.numFree--;
        this.freeBytes -= e.bytes;
        this.numBytesAllocated -= e.bytes;
        return false;
      });
      if (kept.length === 0 && list.length > 0 && this.fitUpRatio > 1) this.noteEmpty(sizeOfKey(k), usageOfKey(k));
      this.free.set(k, kept);
    };
    if (idleFirst) for (const k of this.free.keys()) drop(k, (e) => e.generation >= this.generation);
    if (this.freeBytes > keepFreeBytes) {
      const sign = dropFirst === 'largest' ? -1 : 1;
      // by size, then usage (a fixed order for classes of one size)
      const keys = [...this.free.keys()].sort((a, b) => sign * (sizeOfKey(a) - sizeOfKey(b)) || usageOfKey(a) - usageOfKey(b));
      for (const k of keys) {
        if (this.freeBytes <= keepFreeBytes) break;
        if (sizeOfKey(k) < floorBytes) continue;
        drop(k, () => this.freeBytes <= keepFreeBytes);
      }
    }
    this.generation++;
    return freed;
  }

  /** The free list of the smallest class above `bytes` with a free buffer of `usage`, within the fit-up ratio and the limit. */
  private fitUpList(bytes: number, usage: number, limit: number) {
    const sizes = this.freeSizes.get(usage);
    if (!sizes) return undefined;
    const larger = sizes[lowerBound(sizes, bytes + 1)];
    if (larger === undefined || larger > bytes * this.fitUpRatio || larger > limit) return undefined;
    return this.free.get(key(larger, usage));
  }

  /** A class's free list of `usage` went from empty to one buffer. */
  private noteFilled(bytes: number, usage: number): void {
    let sizes = this.freeSizes.get(usage);
    if (!sizes) this.freeSizes.set(usage, (sizes = []));
    sizes.splice(lowerBound(sizes, bytes), 0, bytes);
  }

  /** A class's free list of `usage` went empty. */
  private noteEmpty(bytes: number, usage: number): void {
    const sizes = this.freeSizes.get(usage);
    const i = sizes ? lowerBound(sizes, bytes) : -1;
    if (sizes && sizes[i] === bytes) sizes.splice(i, 1);
  }

  /** Starts new high-water marks at the current counts. */
  resetPeaks(): void {
    this.peakBytesUsed = this.numBytesUsed;
    this.peakBytesAllocated = this.numBytesAllocated;
  }

  stats(): PoolStats {
    return { inUse: this.numBytesUsed, allocated: this.numBytesAllocated, peakInUse: this.peakBytesUsed, peakAllocated: this.peakBytesAllocated };
  }

  /** Hands over the buffers in use (they leave the pool's counts; the caller releases them). */
  takeUsed(): PoolBuffer[] {
    const out = [...this.used.keys()];
    for (const e of this.used.values()) {
      this.numBytesUsed -= e.bytes;
      this.numBytesAllocated -= e.bytes;
    }
    this.used.clear();
    return out;
  }

  getNumUsedBuffers(): number {
    return this.used.size;
  }

  getNumFreeBuffers(): number {
    return this.numFree;
  }

  dispose(): void {
    for (const list of this.free.values()) for (const e of list) e.buffer.destroy();
    for (const b of this.used.keys()) b.destroy();
    this.free.clear();
    this.freeSizes.clear();
    this.used.clear();
    this.numFree = 0;
    this.freeBytes = 0;
    this.numBytesUsed = 0;
    this.numBytesAllocated = 0;
  }
}

/** A class's key: its bytes and usage in one number (usage flags are below 2^16, bytes below 2^32: exact in a double). */
const USAGES = 2 ** 16;
const key = (bytes: number, usage: number) => bytes * USAGES + usage;
const sizeOfKey = (k: number) => Math.floor(k / USAGES);
/**
 * GPUBufferUsage.MAP_READ | MAP_WRITE: a mappable buffer never fits up, since its reader maps its whole
 * range (TF.js's reads: `getMappedRange()` of a staging buffer the size of the buffer read).
 */
const MAPPABLE = 0x1 | 0x2;
const usageOfKey = (k: number) => k % USAGES;

/** The index of the first entry of ascending `sorted` at least `x` (its length if none). */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
