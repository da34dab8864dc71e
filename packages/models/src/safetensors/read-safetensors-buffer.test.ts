import { describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { readSafetensorsFromBuffer } from './read-safetensors-buffer.js';
import { f32Bytes, handBuilt } from './test-support.js';

describe('readSafetensorsFromBuffer on hand-built bytes', () => {
  // Laid out as Hugging Face does: 8-byte dtypes first, then 4, 2, 1; header padded with spaces.
  const header = JSON.stringify({
    __metadata__: { format: 'pt' },
    step: { dtype: 'I64', shape: [], data_offsets: [0, 8] },
    ids: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
    'h.0.w': { dtype: 'F32', shape: [2, 2], data_offsets: [24, 40] },
    half: { dtype: 'F16', shape: [3], data_offsets: [40, 46] },
    brain: { dtype: 'BF16', shape: [2], data_offsets: [46, 50] },
    empty: { dtype: 'F32', shape: [0, 4], data_offsets: [50, 50] },
    mask: { dtype: 'U8', shape: [2], data_offsets: [50, 52] },
    flag: { dtype: 'BOOL', shape: [1], data_offsets: [52, 53] },
  });
  const data = [
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // step = -1 (I64)
    ...[7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff], // ids = [7, -2^31]
    ...f32Bytes(1.5, -2, 0.25, 3e38),
    ...[0x00, 0x3c, 0x00, 0xc0, 0x55, 0x35], // F16 1, -2, 0x3555
    ...[0x80, 0x3f, 0x49, 0x40], // BF16 1, 3.140625
    ...[0, 255], // U8
    ...[1], // BOOL
  ];
  const bytes = handBuilt(header, data, { padTo8: true });

  it('reads every tensor with the documented conversions', () => {
    const { header: parsed, tensors } = readSafetensorsFromBuffer(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.dataStart % 8).toBe(0);
    expect([...tensors.keys()]).toEqual(['step', 'ids', 'h.0.w', 'half', 'brain', 'empty', 'mask', 'flag']);
    expect(tensors.get('step')).toEqual({ dtype: 'I64', shape: [], data: new Int32Array([-1]) });
    expect(tensors.get('ids')!.data).toEqual(new Int32Array([7, -(2 ** 31)]));
    expect(tensors.get('h.0.w')).toEqual({ dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 0.25, 3e38]) });
    expect(tensors.get('half')!.data).toEqual(new Float32Array([1, -2, 0.333251953125]));
    expect(tensors.get('brain')!.data).toEqual(new Float32Array([1, 3.140625]));
    expect(tensors.get('empty')).toEqual({ dtype: 'F32', shape: [0, 4], data: new Float32Array(0) });
    expect(tensors.get('mask')!.data).toEqual(new Int32Array([0, 255]));
    expect(tensors.get('flag')!.data).toEqual(new Int32Array([1]));
  });

  it('copies: changing the input later does not change the tensors', () => {
    const copy = bytes.slice();
    const { tensors, header: parsed } = readSafetensorsFromBuffer(copy);
    copy.fill(0, parsed.dataStart);
    expect(tensors.get('h.0.w')!.data[0]).toBe(1.5);
  });

  it('reads an unaligned view and an ArrayBuffer', () => {
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(readSafetensorsFromBuffer(shifted.subarray(1)).tensors.get('h.0.w')!.data[1]).toBe(-2);
    expect(readSafetensorsFromBuffer(bytes.slice().buffer).tensors.size).toBe(8);
  });

  it('accepts tensors listed out of offset order and a header without __metadata__', () => {
    const json = JSON.stringify({
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    });
    const { tensors, header } = readSafetensorsFromBuffer(handBuilt(json, f32Bytes(1, 2)));
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect(tensors.get('b')!.data[0]).toBe(2);
    expect(header.metadata).toEqual({});
  });

  it('refuses an I64 value outside int32, naming the tensor', () => {
    const json = JSON.stringify({ big: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } });
    const big = handBuilt(json, [0, 0, 0, 0, 1, 0, 0, 0]); // 2^32
    expect(() => readSafetensorsFromBuffer(big)).toThrow(/tensor 'big'.*element 0 is 4294967296.*readTensorBytes/);
    expect(() => readSafetensorsFromBuffer(big)).toThrow(ClipwiseModelError);
  });
});
