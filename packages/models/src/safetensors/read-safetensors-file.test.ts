import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { openSafetensors } from './read-safetensors-file.js';
import { f32Bytes, handBuilt } from './test-support.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clipwise-st-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const json = JSON.stringify({
  __metadata__: { format: 'pt' },
  first: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
  second: { dtype: 'F32', shape: [1, 1], data_offsets: [8, 12] },
});

async function handBuiltFile(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('openSafetensors', () => {
  it('reads the header on open and each tensor on demand', async () => {
    const path = await handBuiltFile('m.safetensors', handBuilt(json, f32Bytes(1, 2, 3), { padTo8: true }));
    const file = await openSafetensors(path);
    try {
      expect(file.names).toEqual(['first', 'second']);
      expect(file.metadata).toEqual({ format: 'pt' });
      expect(file.info('second')).toEqual({ dtype: 'F32', shape: [1, 1], dataOffsets: [8, 12] });
      // Overwrite 'second' on disk after opening: readTensor sees the new bytes, so it reads at call
      // time, at the tensor's own offset (nothing was buffered on open).
      const handle = await open(path, 'r+');
      await handle.write(new Uint8Array(f32Bytes(9)), 0, 4, file.header.dataStart + 8);
      await handle.close();
      expect(await file.readTensor('second')).toEqual({ dtype: 'F32', shape: [1, 1], data: new Float32Array([9]) });
      expect((await file.readTensor('first')).data).toEqual(new Float32Array([1, 2]));
      const seen: string[] = [];
      for await (const t of file) seen.push(`${t.name}=${Array.from(t.data)}`);
      expect(seen).toEqual(['first=1,2', 'second=9']);
    } finally {
      await file.close();
    }
  });

  it('names a missing tensor and refuses reads after close', async () => {
    const file = await openSafetensors(await handBuiltFile('m.safetensors', handBuilt(json, f32Bytes(1, 2, 3))));
    await expect(file.readTensor('third')).rejects.toThrow(/tensor 'third' is not in .*m\.safetensors \(it holds 2 tensors: first, second\)/);
    await file.close();
    await file.close(); // idempotent
    await expect(file.readTensor('first')).rejects.toThrow(/cannot read tensor 'first': .* was closed/);
  });

  it('refuses a truncated file, naming the tensor that is cut', async () => {
    const path = await handBuiltFile('cut.safetensors', handBuilt(json, f32Bytes(1, 2, 3)));
    await truncate(path, 8 + json.length + 10);
    await expect(openSafetensors(path)).rejects.toThrow(/cut\.safetensors is not a valid safetensors file: the file is truncated: tensor 'second'/);
  });

  it('refuses bad header lengths, bad JSON, bad offsets and unknown dtypes with the file name', async () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [handBuilt(json, f32Bytes(1, 2, 3), { lengthField: 1n << 40n }), /header length field says 1099511627776 bytes/],
      [handBuilt(json, f32Bytes(1, 2, 3), { lengthField: 200n }), /says 200 bytes but the file has only/],
      [handBuilt('{"first": nope}', []), /header is not valid JSON/],
      [handBuilt(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }), f32Bytes(1, 2)), /tensor 'w' has data_offsets \[0, 8\]/],
      [handBuilt(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }), f32Bytes(1)), /truncated: tensor 'w'/],
      [handBuilt(JSON.stringify({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }), f32Bytes(1, 2)), /tensor 'w' has unknown dtype "C64"/],
      [new Uint8Array(3), /bad\.safetensors .*3 bytes, fewer than the 8-byte header length/],
    ];
    for (const [bytes, pattern] of cases) {
      const path = await handBuiltFile('bad.safetensors', bytes);
      const attempt = openSafetensors(path);
      await expect(attempt, String(pattern)).rejects.toThrow(ClipwiseModelError);
      await expect(openSafetensors(path), String(pattern)).rejects.toThrow(pattern);
    }
  });

  it('reports a missing file with its path', async () => {
    await expect(openSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(/cannot open safetensors file .*nope\.safetensors: ENOENT/);
  });
});
