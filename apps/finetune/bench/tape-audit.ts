// What the forward pass keeps for backward, by the op that keeps it: TF.js's tape of one recorded
// step at batch 1 (memory's traceTape), each node's saved tensors grouped by kernel, counted per
// handle (as TF.js's engine counts: a reshaped view counts again) and per buffer (each data buffer
// once, what the device holds). Finds what a model keeps beyond what its backward needs.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/tape-audit.ts -- --backend webgpu --model vit-base-16
import { parseArgs } from 'node:util';
import { setupBackend, type BackendName } from '@clipwise/core';
import { traceTape } from '@clipwise/memory';
import { buildBenchModel } from '../src/profile/bench-model';

const { values } = parseArgs({ options: { backend: { type: 'string' }, model: { type: 'string' }, 'seq-len': { type: 'string' }, top: { type: 'string' } }, allowPositionals: true });
await setupBackend((values.backend ?? 'cpu') as BackendName);
const model = buildBenchModel(values.model ?? 'vit-tiny', {}, values['seq-len'] === undefined ? undefined : Number(values['seq-len']));
const trace = await traceTape(model.lossAt(1));
const MiB = (b: number) => (b / 2 ** 20).toFixed(2);

const byKernel = new Map<string, { nodes: number; handles: number; buffers: Set<number>; bytes: number }>();
const bufferBytes = new Map<number, number>();
let handles = 0;
for (const n of trace.nodes) {
  if (!n.onPath) continue;
  const row = byKernel.get(n.kernel) ?? { nodes: 0, handles: 0, buffers: new Set<number>(), bytes: 0 };
  row.nodes++;
  for (const s of n.saved) {
    row.handles += s.bytes;
    handles += s.bytes;
    if (!row.buffers.has(s.key)) {
      row.buffers.add(s.key);
      // a buffer another kernel already keeps is counted there, not again here
      if (!bufferBytes.has(s.key)) row.bytes += s.bytes;
    }
    bufferBytes.set(s.key, s.bytes);
  }
  byKernel.set(n.kernel, row);
}
const distinct = [...bufferBytes.values()].reduce((a, b) => a + b, 0);
const recordA = trace.records.reduce((s, r) => s + r.activationBytes, 0);
console.log(`${model.label}, batch 1: ${trace.nodes.length} tape nodes; saved ${MiB(handles)} MiB counted per handle, ${MiB(distinct)} MiB per buffer; layer records' activations ${MiB(recordA)} MiB`);
console.log('| kernel | nodes | saved MiB per handle | new buffers MiB |');
console.log('| --- | ---: | ---: | ---: |');
const rows = [...byKernel.entries()].filter(([, r]) => r.handles > 0).sort((a, b) => b[1].bytes - a[1].bytes);
for (const [k, r] of rows.slice(0, Number(values.top ?? 25))) console.log(`| ${k} | ${r.nodes} | ${MiB(r.handles)} | ${MiB(r.bytes)} |`);
model.dispose();
