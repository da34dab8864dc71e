import { describe, expect, it } from 'vitest';
import { encodeTensorChunks } from './encode-tensor.js';

function concat(chunks: Uint8Array[]): number[] {
  return chunks.flatMap((c) => Array.from(c));
}

describe('encodeTensorChunks', () => {
  it('converts in bounded chunks that join to the whole encoding', () => {
    const tensor = { dtype: 'F16', shape: [5], data: new Float32Array([1, -2, 0.5, 65504, 0]) } as const;
    const chunks = [...encodeTensorChunks('w', tensor, 2)];
    expect(chunks.map((c) => c.byteLength)).toEqual([4, 4, 2]);
    expect(concat(chunks)).toEqual([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b, 0x00, 0x00]);
    expect(concat([...encodeTensorChunks('w', tensor)])).toEqual(concat(chunks));
  });

  it('hands over the memory of a same-layout array without copying', () => {
    const data = new Float32Array([1, 2, 3]);
    const [chunk] = [...encodeTensorChunks('w', { dtype: 'F32', shape: [3], data })];
    expect(chunk!.buffer).toBe(data.buffer);
  });

  it('encodes little-endian integers, including 64-bit from numbers and bigints', () => {
    expect(concat([...encodeTensorChunks('a', { dtype: 'I64', shape: [1], data: new Int32Array([-2]) })])).toEqual([
      0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(concat([...encodeTensorChunks('b', { dtype: 'U64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) })])).toEqual(
      Array(8).fill(0xff),
    );
    expect(concat([...encodeTensorChunks('c', { dtype: 'I16', shape: [1], data: new Int32Array([0x1234]) })])).toEqual([0x34, 0x12]);
  });
});
