import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTar } from '../__fixtures__/tar-writer.js';
import { ClipwiseDataError } from '../errors.js';
import { openArchive, readTarEntries, type TarEntry } from './tar-reader.js';

const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-tar-'));
const text = (e: TarEntry) => (e.data ? new TextDecoder().decode(e.data) : null);

async function collect(bytes: Uint8Array, chunkSize?: number, wantData?: (h: { path: string }) => boolean): Promise<TarEntry[]> {
  // Feed in small irregular chunks to exercise reads that straddle chunk boundaries.
  async function* chunks() {
    const size = chunkSize ?? bytes.length;
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const out: TarEntry[] = [];
  for await (const e of readTarEntries(chunks(), { wantData, source: 'fixture.tar' })) out.push(e);
  return out;
}

describe('readTarEntries', () => {
  const longPath = `deep/${'x'.repeat(60)}/${'y'.repeat(60)}/file.txt`;
  const entries = [
    { path: 'root/', type: 'directory' as const },
    { path: 'root/a.txt', data: 'hello' },
    { path: 'root/empty.txt', data: '' },
    { path: 'root/block.bin', data: new Uint8Array(512).fill(7) },
    { path: `gnu/${longPath}`, data: 'gnu long', longName: 'gnu' as const },
    { path: `pax/${longPath}`, data: 'pax long', longName: 'pax' as const },
    { path: `prefix/${longPath}`, data: 'prefix long', longName: 'prefix' as const },
  ];
  const tar = makeTar(entries, false);

  it('reads paths, types and contents, including long names (GNU L, pax, ustar prefix)', async () => {
    for (const chunkSize of [undefined, 7, 513, 100_000]) {
      const got = await collect(tar, chunkSize);
      expect(got.map((e) => e.path)).toEqual(entries.map((e) => e.path));
      expect(got[0].type).toBe('directory');
      expect(got.map(text)).toEqual([null, 'hello', '', text({ data: new Uint8Array(512).fill(7) } as TarEntry), 'gnu long', 'pax long', 'prefix long']);
    }
  });

  it('skips the contents of unwanted entries', async () => {
    const got = await collect(tar, 64, (h) => h.path.endsWith('a.txt'));
    expect(got.filter((e) => e.data !== null).map((e) => e.path)).toEqual(['root/a.txt']);
    expect(got.find((e) => e.path === 'root/block.bin')?.size).toBe(512);
  });

  it('opens gzip-compressed and plain archives from disk', async () => {
    const gz = path.join(dir, 'a.tar.gz');
    const plain = path.join(dir, 'a.tar');
    writeFileSync(gz, makeTar(entries));
    writeFileSync(plain, tar);
    for (const file of [gz, plain]) {
      const names: string[] = [];
      for await (const e of readTarEntries(openArchive(file))) names.push(e.path);
      expect(names).toHaveLength(entries.length);
    }
  });

  it('reports truncation, corruption and missing files with a ClipwiseDataError', async () => {
    await expect(collect(tar.subarray(0, 1024 + 100))).rejects.toThrow(/ends inside entry root\/a.txt.*truncated/);
    const bad = tar.slice();
    bad[0] ^= 0xff;
    await expect(collect(bad)).rejects.toThrow(/bad tar header checksum at byte 0/);
    await expect(collect(new Uint8Array(0))).rejects.toThrow(ClipwiseDataError);
    const missing = path.join(dir, 'nope.tar.gz');
    await expect((async () => { for await (const _ of readTarEntries(openArchive(missing))) void _; })()).rejects.toThrow(/nope.tar.gz: cannot open/);
  });
});
