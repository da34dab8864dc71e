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
  private readonly free = new Map<string, { buffer: PoolBuffer; generation: number; serial: number }[]>();
  /** Buffers in use, with their creation serials. */
  private readonly used = new Map<PoolBuffer, number>();
  private nextSerial = 0;
  private generation = 0;
  private readonly steps: number;

  constructor(
    private readonly device: PoolDevice,
    private readonly options: SizeClassPoolOptions = {},
  ) {
    this.steps = options.classSteps ?? STEPS;
    checkSteps(this.steps);
  }

  acquireBuffer(size: number, usage: number, mappedAtCreation = false, reuse = true): PoolBuffer {
    const bytes = classBytes(size, this.options.limit ?? 2 ** 31 - 4, this.steps);
    const list = reuse ? this.free.get(key(bytes, usage)) : undefined;
    const entry = list?.pop();
    let buffer: PoolBuffer;
    let serial: number;
    if (entry) {
      buffer = entry.buffer;
      serial = entry.serial;
      this.numFree--;
      this.freeBytes -= bytes;
    } else {
      buffer = this.device.createBuffer({ size: bytes, usage, mappedAtCreation });
      serial = this.nextSerial++;
      this.numBytesAllocated += bytes;
      this.peakBytesAllocated = Math.max(this.peakBytesAllocated, this.numBytesAllocated);
    }
    this.used.set(buffer, serial);
    this.numBytesUsed += buffer.size;
    this.peakBytesUsed = Math.max(this.peakBytesUsed, this.numBytesUsed);
    return buffer;
  }

  releaseBuffer(buffer: PoolBuffer, reuse = true): void {
    const serial = this.used.get(buffer);
    if (serial === undefined || !this.used.delete(buffer)) {
      // not ours (made before the pool was installed) or already released: it cannot be pooled by class
      buffer.destroy();
      return;
    }
    this.numBytesUsed -= buffer.size;
    const cap = this.options.maxFreeBytes ?? Infinity;
    if (!reuse || this.freeBytes + buffer.size > cap) {
      buffer.destroy();
      this.numBytesAllocated -= buffer.size;
      return;
    }
    const k = key(buffer.size, buffer.usage);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
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
    list.splice(lo, 0, { buffer, generation: this.generation, serial });
    this.numFree++;
    this.freeBytes += buffer.size;
  }

  /**
   * Ends a step: destroys the free buffers no acquire took since the previous call (idle a whole
   * step) and then, while the free bytes exceed `keepFreeBytes`, the largest remaining. Returns the
   * bytes given back to the device.
   */
  releaseIdle(keepFreeBytes = Infinity): number {
    let freed = 0;
    const drop = (k: string, keep: (e: { buffer: PoolBuffer; generation: number; serial: number }) => boolean) => {
      const list = this.free.get(k)!;
      const kept = list.filter((e) => {
        if (keep(e)) return true;
        e.buffer.destroy();
        freed += e.buffer.size;
        this.numFree--;
        this.freeBytes -= e.buffer.size;
        this.numBytesAllocated -= e.buffer.size;
        return false;
      });
      this.free.set(k, kept);
    };
    for (const k of this.free.keys()) drop(k, (e) => e.generation >= this.generation);
    if (this.freeBytes > keepFreeBytes) {
      const keys = [...this.free.keys()].sort((a, b) => sizeOfKey(b) - sizeOfKey(a));
      for (const k of keys) {
        if (this.freeBytes <= keepFreeBytes) break;
        drop(k, () => this.freeBytes <= keepFreeBytes);
      }
    }
    this.generation++;
    return freed;
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
    for (const b of out) {
      this.numBytesUsed -= b.size;
      this.numBytesAllocated -= b.size;
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
    this.used.clear();
    this.numFree = 0;
    this.freeBytes = 0;
    this.numBytesUsed = 0;
    this.numBytesAllocated = 0;
  }
}

const key = (bytes: number, usage: number) => `${bytes}_${usage}`;
const sizeOfKey = (k: string) => Number(k.slice(0, k.indexOf('_')));
