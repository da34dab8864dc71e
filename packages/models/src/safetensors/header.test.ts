import { describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { readSafetensorsFromBuffer } from './read-safetensors-buffer.js';
import { f32Bytes, handBuilt } from './test-support.js';

const ok = (name: string, dtype: string, shape: number[], offsets: [number, number]) => ({
  [name]: { dtype, shape, data_offsets: offsets },
});

function parse(bytes: Uint8Array): unknown {
  return readSafetensorsFromBuffer(bytes, 'ckpt.safetensors');
}

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  let error: unknown;
  try {
    parse(bytes);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ClipwiseModelError);
  expect((error as Error).message).toMatch(/^ckpt\.safetensors is not a valid safetensors file: /);
  expect((error as Error).message).toMatch(pattern);
  expect((error as Error).message).toMatch(/Fix: /);
}

describe('safetensors header validation', () => {
  const good = JSON.stringify({ ...ok('w', 'F32', [2], [0, 8]), ...ok('b', 'F32', [1], [8, 12]) });
  const data = f32Bytes(1, 2, 3);

  it('accepts the well-formed file these cases are derived from', () => {
    expect(() => parse(handBuilt(good, data))).not.toThrow();
  });

  it('refuses a file shorter than the length field', () => {
    expectError(new Uint8Array(5), /5 bytes, fewer than the 8-byte header length/);
  });

  it('refuses a header length larger than the file', () => {
    expectError(handBuilt(good, data, { lengthField: 10_000n }), /header length field says 10000 bytes but the file has only \d+/);
  });

  it('refuses an absurd header length (a non-safetensors file)', () => {
    expectError(handBuilt(good, data, { lengthField: 2n ** 63n }), /header length field says 9223372036854775808 bytes; expected 2\.\.100000000/);
    expectError(handBuilt('', [], { lengthField: 0n }), /says 0 bytes/);
  });

  it('refuses bad JSON and a header that is not an object', () => {
    expectError(handBuilt('{"w": {"dtype": "F32",', data), /header is not valid JSON/);
    expectError(handBuilt('[1, 2]', []), /must start with '\{'/);
    expectError(handBuilt('{"a":1} x', []), /not valid JSON/);
  });

  it('refuses a header that is not UTF-8', () => {
    const bytes = handBuilt('{"w":1}', []);
    bytes[10] = 0xff;
    expectError(bytes, /not valid UTF-8/);
  });

  it('refuses an unknown dtype, naming the tensor', () => {
    expectError(handBuilt(JSON.stringify(ok('h.3.mlp', 'F4', [2], [0, 1])), [0]), /tensor 'h\.3\.mlp' has unknown dtype "F4"; supported: BOOL, U8/);
  });

  it('refuses bad shapes and offsets, naming the tensor', () => {
    expectError(handBuilt(JSON.stringify(ok('w', 'F32', [-1], [0, 4])), f32Bytes(1)), /tensor 'w' has shape \[-1\]/);
    expectError(handBuilt(JSON.stringify(ok('w', 'F32', [1.5], [0, 4])), f32Bytes(1)), /tensor 'w' has shape \[1\.5\]/);
    expectError(handBuilt(JSON.stringify(ok('w', 'F32', [1], [4, 0] as [number, number])), f32Bytes(1)), /tensor 'w' has data_offsets \[4,0\]/);
    expectError(handBuilt(JSON.stringify({ w: { dtype: 'F32', shape: [1] } }), f32Bytes(1)), /tensor 'w' has data_offsets undefined/);
  });

  it('refuses offsets whose size does not match dtype × shape', () => {
    expectError(handBuilt(JSON.stringify(ok('w', 'F16', [3], [0, 8])), f32Bytes(1, 2)), /tensor 'w' has data_offsets \[0, 8\] \(8 bytes\) but dtype F16 with shape \[3\] needs 6 bytes/);
  });

  it('refuses offsets past the end of the data (truncated file), naming the tensor', () => {
    expectError(handBuilt(good, data.slice(0, 10)), /truncated: tensor 'b' needs data bytes \[8, 12\) but only 10 data bytes are present/);
    expectError(handBuilt(JSON.stringify(ok('w', 'F32', [1], [1000, 1004])), f32Bytes(1)), /tensor 'w' starts at data offset 1000/);
  });

  it('refuses gaps, overlaps and trailing bytes', () => {
    const gap = JSON.stringify({ ...ok('a', 'F32', [1], [0, 4]), ...ok('b', 'F32', [1], [8, 12]) });
    expectError(handBuilt(gap, data), /tensor 'b' starts at data offset 8 but 'a' ends at 4 \(a gap of 4 bytes/);
    const overlap = JSON.stringify({ ...ok('a', 'F32', [2], [0, 8]), ...ok('b', 'F32', [1], [4, 8]) });
    expectError(handBuilt(overlap, f32Bytes(1, 2)), /overlaps tensor 'a'/);
    expectError(handBuilt(good, [...data, 0, 0]), /2 unexpected bytes follow the last tensor 'b'/);
  });

  it('refuses non-string metadata', () => {
    expectError(handBuilt(JSON.stringify({ __metadata__: { step: 3 } }), []), /__metadata__\['step'\] is 3, expected a string/);
  });

  it('accepts an empty file ({}) and zero-size tensors sharing an offset', () => {
    expect(() => parse(handBuilt('{}', []))).not.toThrow();
    const json = JSON.stringify({ ...ok('z', 'F32', [0], [0, 0]), ...ok('a', 'F32', [1], [0, 4]), ...ok('y', 'I64', [3, 0], [4, 4]) });
    expect(() => parse(handBuilt(json, f32Bytes(1)))).not.toThrow();
  });
});
