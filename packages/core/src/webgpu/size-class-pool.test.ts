import { describe, expect, it } from 'vitest';
import { isPoolFitUp, SizeClassBufferPool, sizeClassBytes, type PoolBuffer } from './size-class-pool';

/** A device that only keeps a ledger: every buffer it made and whether it was destroyed. */
function fakeDevice() {
  const made: (PoolBuffer & { destroyed: boolean; mapped: boolean })[] = [];
  return {
    made,
    live: () => made.filter((b) => !b.destroyed).reduce((s, b) => s + b.size, 0),
    createBuffer({ size, usage, mappedAtCreation }: { size: number; usage: number; mappedAtCreation?: boolean }) {
      const b = { size, usage, destroyed: false, mapped: !!mappedAtCreation, destroy() { b.destroyed = true; } };
      made.push(b);
      return b;
    },
  };
}

describe('sizeClassBytes', () => {
  it('rounds up by at most a sixteenth above 4 KiB, to a power of two below, in 16-byte multiples, monotone', () => {
    let prev = 0;
    for (let bytes = 0; bytes < 3e6; bytes += 1 + Math.floor(bytes / 97)) {
      const c = sizeClassBytes(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c % 16).toBe(0);
      expect(c).toBeGreaterThanOrEqual(prev);
      if (bytes > 4096) expect(c).toBeLessThanOrEqual(bytes * (1 + 1 / 16));
      else expect(Math.log2(c) % 1).toBe(0);
      prev = c;
    }
    // ViT's token rows with and without the class token share a class
    expect(sizeClassBytes(6304 * 768 * 4)).toBe(sizeClassBytes(6272 * 768 * 4));
  });

  it('with S classes a power of two, rounds up by at most 1/S, monotone; S must be a power of two from 1 to 64', () => {
    for (const steps of [1, 4, 16, 64]) {
      let prev = 0;
      for (let bytes = 4097; bytes < 3e6; bytes += 1 + Math.floor(bytes / 89)) {
        const c = sizeClassBytes(bytes, undefined, steps);
        expect(c).toBeGreaterThanOrEqual(bytes);
        expect(c).toBeLessThanOrEqual(bytes * (1 + 1 / steps));
        expect(c % 16).toBe(0);
        expect(c).toBeGreaterThanOrEqual(prev);
        prev = c;
      }
    }
    expect(sizeClassBytes(6304 * 768 * 4, undefined, 16)).toBe(sizeClassBytes(6272 * 768 * 4, undefined, 16));
    expect(() => sizeClassBytes(5000, undefined, 12)).toThrow(/classSteps must be a power of two from 1 to 64, got 12/);
    expect(() => new SizeClassBufferPool({ createBuffer: () => ({ size: 0, usage: 0, destroy() {} }) }, { classSteps: 128 })).toThrow(/got 128/);
  });

  it('never exceeds the binding limit; a request above it keeps its size; bad input is an error', () => {
    expect(sizeClassBytes(1000_000, 1000_008)).toBeLessThanOrEqual(1000_008);
    expect(sizeClassBytes(2000_000, 1000_000)).toBe(2000_000);
    expect(() => sizeClassBytes(-1)).toThrow(/non-negative/);
    expect(() => sizeClassBytes(Number.NaN)).toThrow(/non-negative/);
  });
});

/** GPUBufferUsage STORAGE | COPY_SRC | COPY_DST (a tensor's) and UNIFORM | COPY_DST: usages that fit up. */
const [S, U] = [0x80 | 0x4 | 0x8, 0x40 | 0x8];

describe('SizeClassBufferPool', () => {
  it('serves a request from a freed buffer of its class and usage, not of another usage', () => {
    const dev = fakeDevice();
    const pool = new SizeClassBufferPool(dev);
    const a = pool.acquireBuffer(6304 * 768 * 4, 1);
    pool.releaseBuffer(a);
    const b = pool.acquireBuffer(6272 * 768 * 4, 1);
    expect(b).toBe(a);
    const c = pool.acquireBuffer(6272 * 768 * 4, 2);
    expect(c).not.toBe(a);
    expect(dev.made.length).toBe(2);
    expect(pool.stats()).toEqual({ inUse: 2 * a.size, allocated: 2 * a.size, peakInUse: 2 * a.size, peakAllocated: 2 * a.size });
  });

  it('keeps its counts equal to the device ledger over a random workload, with peaks, cap and idle release', () => {
    const dev = fakeDevice();
    const cap = 5e6;
    const pool = new SizeClassBufferPool(dev, { maxFreeBytes: cap });
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const held: PoolBuffer[] = [];
    let peakInUse = 0;
    let peakAllocated = 0;
    for (let step = 0; step < 20; step++) {
      for (let i = 0; i < 200; i++) {
        if (held.length > 0 && rand() < 0.45) {
          pool.releaseBuffer(held.splice(Math.floor(rand() * held.length), 1)[0]!);
        } else {
          held.push(pool.acquireBuffer(Math.floor(rand() * 400_000) + 1, rand() < 0.8 ? 1 : 2));
        }
        const inUse = held.reduce((s, b) => s + b.size, 0);
        peakInUse = Math.max(peakInUse, inUse);
        peakAllocated = Math.max(peakAllocated, dev.live());
        expect(pool.numBytesUsed).toBe(inUse);
        expect(pool.numBytesAllocated).toBe(dev.live());
        expect(dev.live() - inUse).toBeLessThanOrEqual(cap);
      }
      pool.releaseIdle();
      expect(pool.numBytesAllocated).toBe(dev.live());
    }
    expect(pool.peakBytesUsed).toBe(peakInUse);
    expect(pool.peakBytesAllocated).toBe(peakAllocated);
    expect(held.every((b) => !(b as unknown as { destroyed: boolean }).destroyed)).toBe(true);
  });

  it('gives back what a whole step left idle, keeps what the step used, then caps the free bytes largest first', () => {
    const dev = fakeDevice();
    const pool = new SizeClassBufferPool(dev);
    const big = pool.acquireBuffer(1e6, 1);
    const small = pool.acquireBuffer(1e4, 1);
    pool.releaseBuffer(big);
    pool.releaseBuffer(small);
    expect(pool.releaseIdle()).toBe(0); // released during this step: kept
    pool.releaseBuffer(pool.acquireBuffer(1e4, 1)); // the next step uses the small one only
    expect(pool.releaseIdle()).toBe(big.size);
    expect(pool.numBytesAllocated).toBe(small.size);
    const again = pool.acquireBuffer(1e6, 1);
    pool.releaseBuffer(again);
    pool.releaseBuffer(pool.acquireBuffer(1e4, 1)); // this step used both
    expect(pool.releaseIdle(small.size)).toBe(again.size); // over the cap: the largest goes first
    expect(pool.getNumFreeBuffers()).toBe(1);
  });

  it('destroys a buffer it did not make when it is released, and one released without reuse', () => {
    const dev = fakeDevice();
    const pool = new SizeClassBufferPool(dev);
    const foreign = dev.createBuffer({ size: 100, usage: 1 });
    pool.releaseBuffer(foreign);
    expect(foreign.destroyed).toBe(true);
    const b = pool.acquireBuffer(100, 1);
    pool.releaseBuffer(b, false);
    expect((b as unknown as { destroyed: boolean }).destroyed).toBe(true);
    expect(pool.stats().allocated).toBe(0);
  });

  it('hands out the oldest free buffer of a class, whatever order they came back in (the same buffers every step)', () => {
    const dev = fakeDevice();
    const pool = new SizeClassBufferPool(dev);
    const step = (releaseOrder: number[]) => {
      const got = [0, 1, 2, 3].map(() => pool.acquireBuffer(1000, 1));
      for (const i of releaseOrder) pool.releaseBuffer(got[i]!);
      return got;
    };
    const first = step([0, 1, 2, 3]);
    // released in another order (as deferred releases after a submit can be): still the same buffers, in creation order
    expect(step([3, 1, 0, 2])).toEqual(first);
    expect(step([2, 3, 1, 0])).toEqual(first);
    expect(dev.made.length).toBe(4);
  });

  it('fits up: a request whose class has no free buffer takes the smallest free one of its usage within the ratio and the limit', () => {
    const dev = fakeDevice();
    const limit = 1 << 24;
    const pool = new SizeClassBufferPool(dev, { fitUp: 8, limit });
    const sizes = [1e4, 5e4, 2e5, 1e6];
    const held = sizes.map((n) => pool.acquireBuffer(n, S));
    const other = pool.acquireBuffer(3e4, U);
    for (const b of [...held, other]) pool.releaseBuffer(b);
    // 2e4's class has none free: the smallest larger of its usage is 5e4's (3e4's is another usage)
    expect(pool.acquireBuffer(2e4, S)).toBe(held[1]);
    // 1.5e5 → 2e5's buffer; then 1.2e5: 1e6's is more than 8 × its class, so a new buffer
    expect(pool.acquireBuffer(1.5e5, S)).toBe(held[2]);
    const fresh = pool.acquireBuffer(1.2e5, S);
    expect(sizes.map((n, i) => held[i]).includes(fresh)).toBe(false);
    expect(fresh.size).toBe(sizeClassBytes(1.2e5));
    // a request's own class still comes first, and a fit up never takes a buffer above the binding limit
    expect(pool.acquireBuffer(9e3, S)).toBe(held[0]);
    const huge = pool.acquireBuffer(limit + 16, S);
    pool.releaseBuffer(huge);
    expect(pool.acquireBuffer(limit / 2 + 1, S)).not.toBe(huge);
    // a mappable usage (a read's staging, mapped whole) never fits up
    const staging = pool.acquireBuffer(1e6, 1 | 8);
    pool.releaseBuffer(staging);
    expect(pool.acquireBuffer(5e5, 1 | 8)).not.toBe(staging);
    // mapped at creation: a new buffer, never a fit up
    pool.releaseBuffer(pool.acquireBuffer(1e6, S));
    expect((pool.acquireBuffer(5e5, S, true) as unknown as { mapped: boolean }).mapped).toBe(true);
    expect(pool.numBytesAllocated).toBe(dev.live());
  });

  it('fits up as a brute-force best fit over its free list does, with counts equal to the device ledger', () => {
    for (const ratio of [1, 4, 256]) {
      const dev = fakeDevice();
      const pool = new SizeClassBufferPool(dev, { fitUp: ratio });
      let seed = 11;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const held: PoolBuffer[] = [];
      const free: PoolBuffer[] = []; // the reference: every free buffer the pool should hold
      const serial = new Map<PoolBuffer, number>();
      for (let i = 0; i < 3000; i++) {
        if (i % 500 === 499) {
          // a shape change's trim: the smallest first down to half the free bytes
          const freeBytes = free.reduce((s, b) => s + b.size, 0);
          pool.releaseSmallest(freeBytes / 2);
          // by size, then usage, then the newest of a class first (its list's order)
          free.sort((a, b) => a.size - b.size || a.usage - b.usage || serial.get(b)! - serial.get(a)!);
          let left = freeBytes;
          while (left > freeBytes / 2) left -= free.shift()!.size;
        } else if (held.length > 0 && rand() < 0.45) {
          const b = held.splice(Math.floor(rand() * held.length), 1)[0]!;
          pool.releaseBuffer(b);
          free.push(b);
        } else {
          const usage = rand() < 0.8 ? S : U;
          const bytes = Math.floor(2 ** (10 + 12 * rand()));
          const cls = sizeClassBytes(bytes);
          // the oldest free buffer of the smallest fitting class (its own class when it has one)
          const fits = free.filter((b) => b.usage === usage && b.size >= cls && b.size <= cls * ratio);
          const own = fits.filter((b) => b.size === cls);
          const pick = (own.length ? own : fits).reduce<PoolBuffer | undefined>((best, b) => (!best || b.size < best.size || (b.size === best.size && serial.get(b)! < serial.get(best)!) ? b : best), undefined);
          const got = pool.acquireBuffer(bytes, usage);
          if (pick) {
            expect(got).toBe(pick);
            free.splice(free.indexOf(pick), 1);
          } else {
            expect(dev.made.at(-1)).toBe(got);
            serial.set(got, serial.size);
          }
          held.push(got);
        }
        expect(pool.numBytesUsed).toBe(held.reduce((s, b) => s + b.size, 0));
        expect(pool.numBytesAllocated).toBe(dev.live());
        expect(pool.getNumFreeBuffers()).toBe(free.length);
      }
      expect(free.every((b) => !(b as unknown as { destroyed: boolean }).destroyed)).toBe(true);
    }
  });

  it('trims the smallest first, idle or not, and takes only fit-up ratios of at least 1', () => {
    const dev = fakeDevice();
    const pool = new SizeClassBufferPool(dev);
    const [a, b, c] = [1e4, 1e5, 1e6].map((n) => pool.acquireBuffer(n, S));
    for (const x of [a!, b!, c!]) pool.releaseBuffer(x);
    pool.releaseIdle(); // a step boundary: all three were released during it, so all stay
    // none is taken during the next step, and the smallest still go first
    expect(pool.releaseSmallest(c!.size)).toBe(a!.size + b!.size);
    expect(pool.getNumFreeBuffers()).toBe(1);
    expect(pool.acquireBuffer(1e6, S)).toBe(c);
    expect(isPoolFitUp(1)).toBe(true);
    expect(isPoolFitUp(0.5)).toBe(false);
    expect(() => new SizeClassBufferPool(dev, { fitUp: Infinity })).toThrow(/fitUp must be a finite number of at least 1/);
    expect(() => (pool.fitUp = 0)).toThrow(/fitUp/);
  });

  it('trims its own way once it fits up: the smallest of at least 1 MiB first, idle or not, the small ones spared', () => {
    const dev = fakeDevice();
    const pool = new SizeClassBufferPool(dev, { fitUp: 4 });
    const [tiny, mid, big] = [1e4, 2e6, 8e6].map((n) => pool.acquireBuffer(n, S));
    for (const x of [tiny!, mid!, big!]) pool.releaseBuffer(x);
    pool.releaseIdle(); // a step boundary: all three were released during it
    // a step that takes none: the idle rule would drop all three; this trim drops mid (the smallest above the floor) only
    expect(pool.releaseIdle(big!.size + tiny!.size)).toBe(mid!.size);
    expect(pool.releaseIdle(0)).toBe(big!.size); // even to nothing, the small one stays
    expect(pool.getNumFreeBuffers()).toBe(1);
  });

  it('fits up from the free buffers it already holds when the ratio is raised later', () => {
    const dev = fakeDevice();
    const pool = new SizeClassBufferPool(dev);
    const big = pool.acquireBuffer(1e6, S);
    pool.releaseBuffer(big);
    expect(pool.acquireBuffer(5e5, S)).not.toBe(big); // its class only
    pool.fitUp = 4;
    expect(pool.acquireBuffer(5e5, S)).toBe(big);
    pool.releaseBuffer(big);
    pool.fitUp = 1;
    expect(pool.acquireBuffer(5e5, S)).not.toBe(big);
  });
});
