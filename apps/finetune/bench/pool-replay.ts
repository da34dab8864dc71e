// Replays a pool trace (bench/pool-trace.ts) through core's SizeClassBufferPool with other options and
// prints each measurement's pool peak (MiB): a pool policy's peak for a whole step, in milliseconds
// on the CPU, with no device. The first row (the options the trace ran with) must equal the run's own.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/pool-replay.ts -- TRACE.json [--steps 8,16,32]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SizeClassBufferPool, type PoolBuffer } from '@clipwise/core';

const { values, positionals } = parseArgs({ options: { steps: { type: 'string' } }, allowPositionals: true });
const file = positionals.find((p) => p !== '--');
if (!file) throw new Error('usage: pool-replay.ts TRACE.json [--steps 8,16,32]');
type Event = (string | number | boolean)[];
const events = JSON.parse(readFileSync(file, 'utf8')) as Event[];

/** Each measurement's pool peak (MiB) when the trace runs through a pool of `classSteps`. */
function replay(classSteps: number): number[] {
  const device = { createBuffer: ({ size, usage }: { size: number; usage: number }): PoolBuffer => ({ size, usage, destroy() {} }) };
  const pool = new SizeClassBufferPool(device, { classSteps });
  const buffers = new Map<number, PoolBuffer>();
  const peaks: number[] = [];
  for (const e of events) {
    if (e[0] === 'a') buffers.set(e[1] as number, pool.acquireBuffer(e[2] as number, e[3] as number, false, e[4] as boolean));
    else if (e[0] === 'r') {
      const b = buffers.get(e[1] as number);
      if (b) pool.releaseBuffer(b, e[2] as boolean);
    } else if (e[0] === 'i') pool.releaseIdle((e[1] as number) < 0 ? Infinity : (e[1] as number));
    else if (e[0] === 'p') pool.resetPeaks();
    else if (e[0] === 's') peaks.push(pool.stats().peakAllocated / 2 ** 20);
  }
  return peaks;
}
console.log('| classes per power of two | pool peak MiB at each measurement |');
console.log('| ---: | --- |');
for (const steps of (values.steps ?? '8,16,32').split(',').map(Number)) console.log(`| ${steps} | ${replay(steps).map((p) => p.toFixed(2)).join(' / ')} |`);
