import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { openSafetensors } from './read-safetensors-file.js';
import { readSafetensorsFromBuffer } from './read-safetensors-buffer.js';
import { serializeSafetensors } from './serialize-safetensors.js';
import type { SafetensorsTensorInput } from './tensor.js';
import { writeSafetensors } from './write-safetensors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipwise-st-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tensors: Record<string, SafetensorsTensorInput> = {
  'wte.weight': { dtype: 'F32', shape: [3, 2], data: new Float32Array([1, -2, 3.5, 0, 1e-30, -0]) },
  'ln.f16': { dtype: 'F16', shape: [2, 1, 2], data: new Float32Array([0.5, -1, 65504, 2 ** -24]) },
  'ln.bf16': { dtype: 'BF16', shape: [2], data: new Float64Array([1, -256]) },
  f64: { dtype: 'F64', shape: [2], data: new Float64Array([0.1, -7]) },
  scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
  empty: { dtype: 'F32', shape: [0], data: new Float32Array(0) },
  'empty.2d': { dtype: 'I64', shape: [4, 0], data: new BigInt64Array(0) },
  step: { dtype: 'I64', shape: [], data: new BigInt64Array([123456n]) },
  ids: { dtype: 'I32', shape: [3], data: new Int32Array([-1, 0, 2 ** 31 - 1]) },
  small: { dtype: 'I16', shape: [2], data: new Int32Array([-32768, 32767]) },
  u16: { dtype: 'U16', shape: [1], data: new Uint16Array([65535]) },
  i8: { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
  bytes: { dtype: 'U8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) },
  flags: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
  u64: { dtype: 'U64', shape: [1], data: new Uint32Array([7]) },
  f8: { dtype: 'F8_E4M3', shape: [2], bytes: new Uint8Array([0x38, 0x7e]) },
};

const expected: Record<string, { shape: number[]; data: number[] }> = {
  'wte.weight': { shape: [3, 2], data: [1, -2, 3.5, 0, Math.fround(1e-30), -0] },
  'ln.f16': { shape: [2, 1, 2], data: [0.5, -1, 65504, 2 ** -24] },
  'ln.bf16': { shape: [2], data: [1, -256] },
  f64: { shape: [2], data: [Math.fround(0.1), -7] },
  scalar: { shape: [], data: [42] },
  empty: { shape: [0], data: [] },
  'empty.2d': { shape: [4, 0], data: [] },
  step: { shape: [], data: [123456] },
  ids: { shape: [3], data: [-1, 0, 2 ** 31 - 1] },
  small: { shape: [2], data: [-32768, 32767] },
  u16: { shape: [1], data: [65535] },
  i8: { shape: [2], data: [-128, 127] },
  bytes: { shape: [2, 2], data: [0, 1, 254, 255] },
  flags: { shape: [3], data: [1, 0, 1] },
  u64: { shape: [1], data: [7] },
  f8: { shape: [2], data: [1, 448] },
};

describe('writeSafetensors', () => {
  it('round-trips every dtype, scalars and zero-size tensors through a file', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, tensors, { format: 'pt', note: 'ünïcode' });
    const file = await openSafetensors(path);
    try {
      expect(file.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
      expect(file.header.dataStart % 8).toBe(0);
      for (const [name, want] of Object.entries(expected)) {
        const got = await file.readTensor(name);
        expect(got.dtype, name).toBe(tensors[name]!.dtype);
        expect(got.shape, name).toEqual(want.shape);
        expect(Array.from(got.data), name).toEqual(want.data);
      }
      expect(Object.is((await file.readTensor('wte.weight')).data[5], -0)).toBe(true);
    } finally {
      await file.close();
    }
  });

  it('writes the same bytes as serializeSafetensors, aligned as Hugging Face lays files out', async () => {
    const path = join(dir, 'a.safetensors');
    await writeSafetensors(path, tensors);
    const onDisk = new Uint8Array(await readFile(path));
    expect(onDisk).toEqual(serializeSafetensors(tensors));
    const { header } = readSafetensorsFromBuffer(onDisk);
    for (const [name, info] of header.tensors) {
      const size = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2, U16: 2 }[info.dtype as string] ?? 1;
      expect((header.dataStart + info.dataOffsets[0]) % size, name).toBe(0);
    }
    // JSON padded with spaces to a multiple of 8, as the reference implementation does.
    const n = Number(new DataView(onDisk.buffer, onDisk.byteOffset).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(new TextDecoder().decode(onDisk.subarray(8, 8 + n))).toMatch(/^\{"__metadata__"|^\{".*\} *$/s);
    expect(new TextDecoder().decode(onDisk.subarray(8, 8 + n))).toMatch(/\} *$/);
  });

  it('leaves no temporary file and replaces an existing target', async () => {
    const path = join(dir, 'ckpt.safetensors');
    await writeFile(path, 'old contents');
    await writeSafetensors(path, { a: { dtype: 'F32', shape: [1], data: new Float32Array([5]) } });
    expect(await readdir(dir)).toEqual(['ckpt.safetensors']);
    expect(readSafetensorsFromBuffer(await readFile(path)).tensors.get('a')!.data[0]).toBe(5);
  });

  it('keeps the old target and removes the temporary file when writing fails midway', async () => {
    const path = join(dir, 'ckpt.safetensors');
    await writeFile(path, 'old contents');
    // Validation passes (types and shapes fine); the bad value is found while streaming 'z', after
    // the header and tensor 'a' have been written to the temporary file.
    const bad = {
      a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      z: { dtype: 'U8', shape: [2], data: new Int32Array([1, 300]) },
    } as const;
    await expect(writeSafetensors(path, bad)).rejects.toThrow(/tensor 'z': element 1 is 300, outside the U8 range \[0, 255\]/);
    expect(await readdir(dir)).toEqual(['ckpt.safetensors']);
    expect(await readFile(path, 'utf8')).toBe('old contents');
  });

  it('reports a missing directory without creating anything', async () => {
    const path = join(dir, 'no', 'such', 'dir', 'x.safetensors');
    await expect(writeSafetensors(path, {})).rejects.toThrow(/cannot write checkpoint .*x\.safetensors.*directory exists/);
  });

  it('refuses bad inputs, naming the tensor', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }, /tensor 'w' has shape \[3\] \(3 elements\) but data has 2/],
      [{ w: { dtype: 'F16', shape: [1], data: new Uint16Array(1) } }, /tensor 'w' has dtype F16 but data is Uint16Array; expected a Float32Array or Float64Array.*\{ bytes \}/],
      [{ w: { dtype: 'I32', shape: [1], data: new Float32Array(1) } }, /tensor 'w' has dtype I32 but data is Float32Array; expected an integer typed array/],
      [{ w: { dtype: 'F8_E5M2', shape: [1], data: new Float32Array(1) } }, /tensor 'w' has dtype F8_E5M2.*pass \{ bytes \}/],
      [{ w: { dtype: 'Q4', shape: [1], data: new Float32Array(1) } }, /tensor 'w' has dtype "Q4"; expected one of/],
      [{ w: { dtype: 'F32', shape: [-1], data: new Float32Array(1) } }, /tensor 'w' has shape \[-1\]/],
      [{ w: { dtype: 'F32', shape: [2], bytes: new Uint8Array(4) } }, /tensor 'w': bytes has length 4, but dtype F32 with shape \[2\] needs 8/],
      [{ __metadata__: { dtype: 'F32', shape: [], data: new Float32Array(1) } }, /named '__metadata__': the name is reserved/],
      [{ flag: { dtype: 'BOOL', shape: [1], data: new Uint8Array([2]) } }, /tensor 'flag': element 0 is 2, outside the BOOL range \[0, 1\]/],
      [{ n: { dtype: 'U64', shape: [1], data: new BigInt64Array([-1n]) } }, /tensor 'n': element 0 is -1, outside the U64 range/],
      [{ n: { dtype: 'I32', shape: [1], data: new Uint32Array([2 ** 31]) } }, /tensor 'n': element 0 is 2147483648, outside the I32 range/],
    ];
    for (const [input, pattern] of cases) {
      expect(() => serializeSafetensors(input as Record<string, SafetensorsTensorInput>)).toThrow(pattern);
      expect(() => serializeSafetensors(input as Record<string, SafetensorsTensorInput>)).toThrow(ClipwiseModelError);
    }
    expect(() => serializeSafetensors({}, { step: 3 } as unknown as Record<string, string>)).toThrow(/metadata\['step'\] is 3/);
  });

  it('round-trips full-range 64-bit values through raw bytes', async () => {
    const path = join(dir, 'big.safetensors');
    const big = new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]);
    await writeSafetensors(path, { big: { dtype: 'I64', shape: [2], data: big } });
    const file = await openSafetensors(path);
    try {
      const raw = await file.readTensorBytes('big');
      expect(new BigInt64Array(raw.buffer, raw.byteOffset, 2)).toEqual(big);
      await expect(file.readTensor('big')).rejects.toThrow(/tensor 'big' .*outside the int32 range/);
    } finally {
      await file.close();
    }
  });

  it('keeps a tensor named __proto__', () => {
    const bytes = serializeSafetensors({ ['__proto__']: { dtype: 'F32', shape: [1], data: new Float32Array([9]) } });
    expect(readSafetensorsFromBuffer(bytes).tensors.get('__proto__')!.data[0]).toBe(9);
  });
});
