import { describe, expect, it } from 'vitest';
import { SizeClassBufferPool, sizeClassBytes, type PoolBuffer } from './size-class-pool';

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
});
