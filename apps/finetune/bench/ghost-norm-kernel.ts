// Device time and achieved fp32 TFLOP/s of the ghost-norm kernel, for each work split (`--splits`) (`ghostSqNormPartialsMany`, all-layer's
// one call at a group's close; `ghostSqNormPartials`, layer-wise's one launch a layer) on the linear
// layers of a GPT-2 small (B16×T128) and ViT-B/16 (B32, T197) step. Run on the GPU machine; prints a
// markdown table. CLIPWISE_CORE_DIST=path/to/index.js times another build of @clipwise/core (a before).
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/ghost-norm-kernel.ts -- --reps 10 --splits 16x4,32x2 [--models vit]
// (--split-k 0,2048: also with K split over about 2048 workgroups a layer, setGhostSplitK; --tile-rows 32,48,64:
// also on larger Gram tiles, setGhostTileRows, with the splits that can stage them, e.g. --splits 32x2,16x2,32x1)
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { ghostSplit } from '../src/commands/bench';
import { BENCH_MODELS, loadBenchCore, stepLayers } from './bench-models';
import { medianKernelMs } from './kernel-time';

const { values } = parseArgs({ options: { reps: { type: 'string' }, small: { type: 'boolean' }, splits: { type: 'string' }, 'split-k': { type: 'string' }, 'tile-rows': { type: 'string' }, models: { type: 'string' } }, allowPositionals: true });
const reps = Number(values.reps ?? 10);
const core = await loadBenchCore();

// --models gpt2,vit: which to time (default both; ViT with q, k, v separate); --small: the same calls on a
// two-block toy of each (checks the script on a slow backend)
const wanted = (values.models ?? 'gpt2,vit').split(',');
const chosen = (['gpt2', 'vit'] as const).filter((k) => wanted.includes(k)).map((k) => ({ ...BENCH_MODELS[k], layers: stepLayers(BENCH_MODELS[k]) }));
const MODELS = values.small ? chosen.map((m) => ({ ...m, b: 2, t: 40, layers: m.layers.slice(0, m.layers.length / 6) })) : chosen;

/** Median device ms of `run` (`medianKernelMs`, `reps` timings). */
const time = (run: () => tf.TensorContainer) => medianKernelMs(run, reps);

// the kernel's work splits, BKxKG (a build without setGhostKernelShape runs its own only; one before
// DEFAULT_GHOST_KERNEL_SHAPE defaulted to 16x4)
const def = (core as Partial<typeof core>).DEFAULT_GHOST_KERNEL_SHAPE;
const defaultSplit = def ? `${def.bk}x${def.kg}` : '16x4';
const splits: (string | null)[] = 'setGhostKernelShape' in core ? (values.splits ?? defaultSplit).split(',') : [null];
console.log('| model | call | split | layers | ms | TFLOP/s (whole Grams) | TFLOP/s (tiles computed) |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
// --split-k 0,2048: the K split's workgroup targets to time (setGhostSplitK; 0: the one-launch kernel), a row each
const targets: (number | null)[] = 'setGhostSplitK' in core ? (values['split-k'] ?? '0').split(',').map(Number) : [null];
// --tile-rows 32,48,64: Gram tile rows to force (setGhostTileRows; 0 or absent: the kernel's own choice), a row each
const tileRows: number[] = 'setGhostTileRows' in core ? (values['tile-rows'] ?? '0').split(',').map(Number) : [0];
for (const m of MODELS) for (const split of splits) for (const target of targets) for (const forced of tileRows) {
  if (target !== null) core.setGhostSplitK(target);
  if ('setGhostTileRows' in core) core.setGhostTileRows(null);
  if (split) {
    // BKxKG, parsed as `clipwise bench --ghost-split` parses it
    core.setGhostKernelShape(ghostSplit(split)!);
  }
  if (forced) {
    if (!core.ghostTileRowsFit(forced, core.ghostKernelShape())) {
      console.log(`| ${m.name} | (${forced}-row tiles do not fit ${split}) | | | | | |`);
      continue;
    }
    core.setGhostTileRows(forced as 32 | 40 | 48 | 64);
  }
  const mode = [split, target ? `K split ${target}` : null, forced ? `${forced}-row tiles` : null].filter(Boolean).join(', ') || null;
  const rows = 'ghostTileRows' in core ? core.ghostTileRows(m.t) : 32;
  const tiles = Math.ceil(m.t / rows);
  const pairs = (tiles * (tiles + 1)) / 2;
  // the Grams' FLOPs: 2·B·T²·(d + p) as matmuls; the kernel computes only the upper triangle's tiles
  const whole = (ls: readonly (readonly [number, number])[]) => ls.reduce((s, [d, p]) => s + 2 * m.b * m.t * m.t * (d + p), 0);
  const computed = (ls: readonly (readonly [number, number])[]) => ls.reduce((s, [d, p]) => s + 2 * m.b * pairs * rows * rows * (d + p), 0);
  const operands = m.layers.map(([d, p]) => ({ a: tf.randomNormal([m.b, m.t, d]) as tf.Tensor3D, g: tf.randomNormal([m.b, m.t, p]) as tf.Tensor3D, bias: true }));
  const row = (call: string, ls: readonly (readonly [number, number])[], ms: number) =>
    console.log(`| ${m.name} | ${call} | ${mode ?? '-'} | ${ls.length} | ${ms.toFixed(2)} | ${(whole(ls) / ms / 1e9).toFixed(1)} | ${(computed(ls) / ms / 1e9).toFixed(1)} |`);
  row('all-layer: ghostSqNormPartialsMany', m.layers, await time(() => core.ghostSqNormPartialsMany(operands)!));
  const weightsOnly = operands.map(({ a, g }) => ({ a, g, bias: false }));
  row('all-layer, weights only (no bias workgroups)', m.layers, await time(() => core.ghostSqNormPartialsMany(weightsOnly)!));
  // one launch a layer, as layer-wise runs them; timed together
  const singles = (ops: typeof operands) => () => ops.map(({ a, g }) => core.ghostSqNormPartials(a, g, { bias: true })!);
  row('layer-wise: ghostSqNormPartials, a launch a layer', m.layers, await time(singles(operands)));
  for (const shape of new Set(m.layers.map((l) => l.join('x')))) {
    const ops = operands.filter((_, i) => m.layers[i]!.join('x') === shape);
    const ms = await time(singles(ops));
    row(`layer-wise: the ${ops.length} d×p ${shape} layers`, m.layers.filter((l) => l.join('x') === shape), ms);
  }
  tf.dispose(operands.flatMap(({ a, g }) => [a, g]));
}
console.log(`(device time from timestamp queries, median of ${reps}; core: ${process.env.CLIPWISE_CORE_DIST ?? '@clipwise/core'})`);
