// Records every buffer the size-class pool hands out and takes back while `clipwise bench` runs (any
// bench flags), for replaying pool policies offline: the allocation sequence is the kernels', the same on
// lavapipe as on a GPU (ViT-B/16 B32's pool peaks on lavapipe equal the H200's to the KiB).
//   XDG_RUNTIME_DIR=/tmp node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts \
//     apps/finetune/bench/pool-trace.ts -- OUT.json bench --backend webgpu --model vit-base-16 --batch-size 32 --groupings all-layer --reps 1
// Events: ['a', id, requested bytes, usage, reuse] acquire; ['r', id, reuse] release; ['i', keepFreeBytes]
// releaseIdle; ['p'] resetPeaks; ['s'] stats read (a measurement's end).
import { writeFileSync } from 'node:fs';
import { SizeClassBufferPool, type PoolBuffer } from '@clipwise/core';
import { main } from '../src/cli';

const [out, ...args] = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
if (!out || args.length === 0) throw new Error('usage: pool-trace.ts OUT.json <clipwise command and flags>');
type Event = (string | number | boolean)[];
const events: Event[] = [];
const ids = new WeakMap<PoolBuffer, number>();
let next = 0;
const proto = SizeClassBufferPool.prototype;
const { acquireBuffer, releaseBuffer, releaseIdle, resetPeaks, stats } = proto;
proto.acquireBuffer = function (size, usage, mapped = false, reuse = true) {
  const buffer = acquireBuffer.call(this, size, usage, mapped, reuse);
  if (!ids.has(buffer)) ids.set(buffer, next++);
  events.push(['a', ids.get(buffer)!, size, usage, reuse]);
  return buffer;
};
proto.releaseBuffer = function (buffer, reuse = true) {
  events.push(['r', ids.get(buffer) ?? -1, reuse]);
  releaseBuffer.call(this, buffer, reuse);
};
proto.releaseIdle = function (keep = Infinity) {
  events.push(['i', Number.isFinite(keep) ? keep : -1]);
  return releaseIdle.call(this, keep);
};
proto.resetPeaks = function () {
  events.push(['p']);
  resetPeaks.call(this);
};
proto.stats = function () {
  events.push(['s']);
  return stats.call(this);
};
const code = await main(args);
writeFileSync(out, JSON.stringify(events));
console.log(`pool-trace: ${events.length} events in ${out}`);
process.exit(code);
