// Times reading + decoding CIFAR-10 JPEGs from the shared tar.gz. Run:
//   npx vite-node bench/read-cifar-archive.ts [path/to/cifar10-jpeg.tar.gz]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openArchive, readTarEntries } from '../src/archives/tar-reader.js';
import { decodeImage } from '../src/images/decode-image.js';
import { readImageArchive } from '../src/images/image-archive.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const archive = process.argv[2] ?? path.resolve(repoRoot, '../shared/data/cifar10-jpeg.tar.gz');
if (!existsSync(archive)) throw new Error(`${archive} not found; pass the archive path as the first argument`);

/** Wall and CPU (user + system, this process incl. zlib threads) milliseconds; CPU time is steadier on a busy machine. */
async function timeMs(fn: () => Promise<unknown>): Promise<[number, number]> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return [performance.now() - t0, (c.user + c.system) / 1000];
}

const rows: [string, number, [number, number]][] = [];
rows.push([
  'gunzip + walk all 60k tar entries (no decode)',
  0,
  await timeMs(async () => {
    for await (const _ of readTarEntries(openArchive(archive), { wantData: () => false })) void _;
  }),
]);
const jpegs: Uint8Array[] = [];
for await (const e of readTarEntries(openArchive(archive), { wantData: (h) => h.path.startsWith('test/') && jpegs.length < 1000 })) {
  if (e.data && jpegs.length < 1000) jpegs.push(e.data);
}
rows.push(['decode 1000 JPEGs already in memory (jpeg-js)', jpegs.length, await timeMs(async () => jpegs.forEach((j, i) => decodeImage(j, String(i))))]);
for (const [split, limitPerClass] of [['test', 10], ['test', 100], ['train', 100], ['test', 1000]] as const) {
  let n = 0;
  const ms: [number, number] = await timeMs(async () => {
    n = (await readImageArchive(archive, { split, limitPerClass })).size;
  });
  rows.push([`readImageArchive split=${split} limitPerClass=${limitPerClass}`, n, ms]);
}
console.log('| case | images | wall ms | cpu ms |\n| --- | ---: | ---: | ---: |');
for (const [name, n, [wall, cpu]] of rows) console.log(`| ${name} | ${n} | ${wall.toFixed(0)} | ${cpu.toFixed(0)} |`);
