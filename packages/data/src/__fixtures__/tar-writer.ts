// Test helper: writes small tar archives (ustar, GNU 'L' long names, pax 'x' records) in memory,
// independently of the reader under test.
import { gzipSync } from 'node:zlib';

export interface FixtureEntry {
  readonly path: string;
  readonly data?: Uint8Array | string;
  readonly type?: 'file' | 'directory';
  /** How to store a path longer than 100 bytes: ustar prefix field, GNU 'L' record or pax 'x' record. */
  readonly longName?: 'prefix' | 'gnu' | 'pax';
}

const encoder = new TextEncoder();

function header(name: string, size: number, typeFlag: string, prefix = ''): Uint8Array {
  const h = new Uint8Array(512);
  const put = (text: string, at: number, len: number) => h.set(encoder.encode(text).subarray(0, len), at);
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0');
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 7);
  put(octal(0, 8), 108, 7);
  put(octal(0, 8), 116, 7);
  put(octal(size, 12), 124, 11);
  put(octal(0, 12), 136, 11);
  put('        ', 148, 8);
  put(typeFlag, 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

function padded(data: Uint8Array): Uint8Array[] {
  const pad = (512 - (data.length % 512)) % 512;
  return [data, new Uint8Array(pad)];
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return `${length}${body}`;
}

/** A tar archive of the given entries, gzip-compressed unless `gzip` is false. */
export function makeTar(entries: readonly FixtureEntry[], gzip = true): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? encoder.encode(e.data) : (e.data ?? new Uint8Array(0));
    const flag = e.type === 'directory' ? '5' : '0';
    let name = e.path;
    let prefix = '';
    if (encoder.encode(e.path).length > 100) {
      if (e.longName === 'gnu') {
        const longName = encoder.encode(e.path + '\0');
        blocks.push(header('././@LongLink', longName.length, 'L'), ...padded(longName));
        name = e.path.slice(0, 100);
      } else if (e.longName === 'pax') {
        const pax = encoder.encode(paxRecord('path', e.path));
        blocks.push(header('PaxHeader', pax.length, 'x'), ...padded(pax));
        name = e.path.slice(0, 100);
      } else {
        const cut = e.path.lastIndexOf('/', e.path.length - 2);
        prefix = e.path.slice(0, cut);
        name = e.path.slice(cut + 1);
      }
    }
    blocks.push(header(name, data.length, flag, prefix), ...padded(data));
  }
  blocks.push(new Uint8Array(1024));
  const total = blocks.reduce((a, b) => a + b.length, 0);
  const tar = new Uint8Array(total);
  let at = 0;
  for (const b of blocks) {
    tar.set(b, at);
    at += b.length;
  }
  return gzip ? new Uint8Array(gzipSync(tar)) : tar;
}
