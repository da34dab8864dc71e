// Device time of a linear layer's clipped weight-and-bias sum in each form a private step launches it,
// on the weight shapes of GPT-2 small (B16×T128) and ViT-B/16 (B32, T197), after tuning the matmul
// tiles on them as `clipwise bench` does:
//   given c       all-layer and uniform groups: the factors formed before, `clippedOuterSumWithBias`
//   c in product  layer-wise: the factors formed from the ghost partials inside the product's launch
//   bias apart    param-wise: the same with the bias's own factors from its columns
//   two launches  layer-wise with `setClipInProduct(false)`: the factors' launch, then the product
// The forms that make their factors inside the launch run twice: each sample's thread walking its
// partials, and every thread staging them first (core's `setStagedClipPrologue`, off by default since
// this script's fifteenth-session H100 run). A second table times a layer norm's clipped row sums
// (γ and β [B, 768], one group or two) with core's parallel clip factors off and on (the default). Run on the GPU machine; prints markdown.
// CLIPWISE_CORE_DIST=path/to/index.js times another build of @clipwise/core (a before).
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/clip-product.ts -- --reps 10 [--models gpt2,vit] [--small] [--tuning off]
// (--tuning off: the heuristic's tile plans, no autotuneMatmul first)
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { BENCH_MODELS, distinctLayers, loadBenchCore } from './bench-models';
import { interleavedKernelMs } from './kernel-time';

const { values } = parseArgs({ options: { reps: { type: 'string' }, small: { type: 'boolean' }, models: { type: 'string' }, tuning: { type: 'string' } }, allowPositionals: true });
const reps = Number(values.reps ?? 10);
const core = await loadBenchCore();

// --models gpt2,vit: which to time (default both; ViT with q|k|v packed)
const wanted = (values.models ?? 'gpt2,vit').split(',');
const chosen = (['gpt2', 'vit-packed'] as const).filter((k) => wanted.includes(k.replace('-packed', ''))).map((k) => ({ ...BENCH_MODELS[k], layers: distinctLayers(BENCH_MODELS[k]) }));
// --small: a toy of each shape (checks the script on a slow backend such as lavapipe)
const MODELS = values.small ? chosen.map((m) => ({ ...m, b: 2, t: 40, layers: m.layers.map(([d, p]) => [d / 8, p / 8, 1] as const) })) : chosen;

const clip = { threshold: 1, gamma: 0.01, automatic: false };
/** `run` with core's parallel clip factors and staged clip prologue (both `parallel`) and the clip in the product set as given while it runs. */
const under = (parallel: boolean, inProduct: boolean, run: () => tf.TensorContainer) => (): tf.TensorContainer => {
  core.setParallelClipFactors(parallel);
  // a before's build (CLIPWISE_CORE_DIST) may predate the prologue's own switch
  core.setStagedClipPrologue?.(parallel);
  core.setClipInProduct(inProduct);
  try {
    return run();
  } finally {
    core.setParallelClipFactors(null);
    core.setStagedClipPrologue?.(null);
    core.setClipInProduct(true);
  }
};
const pair = ([off, on]: [number, number]) => `${off.toFixed(3)} → ${on.toFixed(3)}`;
console.log('| model | d × p | layers | given c ms | c in product ms (walk → staged) | bias apart ms (walk → staged) | two launches ms | c in product / given c | TFLOP/s given c | tuned tile |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const norms: string[] = [];
for (const m of MODELS) {
  const ops = m.layers.map(([d, p]) => {
    const a = tf.randomNormal([m.b, m.t, d]) as tf.Tensor3D;
    const dy = tf.randomNormal([m.b, m.t, p]) as tf.Tensor3D;
    const partials = core.ghostSqNormPartials(a, dy, { bias: true })!;
    const c = tf.randomUniform([m.b], 0.1, 1) as tf.Tensor1D;
    return { a, dy, partials, c, weightColumns: core.ghostLayerWidth(m.t, p, false) };
  });
  // the step's tuning: every plain product once under `autotuneMatmul` (which records and times its problems)
  if (values.tuning !== 'off') {
    const rows = await core.autotuneMatmul(async () => {
      for (const o of ops) tf.dispose(core.clippedOuterSumWithBias(o.a, o.dy, o.c));
    });
    console.error(core.formatMatmulTuning(rows));
  }
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    const [d, p, count] = m.layers[i]!;
    const product = () => core.clippedOuterSumWithBiasFromTerms(o.a, o.dy, o.partials, clip);
    const apartRun = () => core.clippedOuterSumWithBiasFromTerms(o.a, o.dy, o.partials, clip, { biasApart: { from: o.weightColumns, threshold: 0.5 } });
    // every form once a round, the rounds' medians: the first version timed the forms one after
    // another, and its H100 table did not make sense (GPT-2's 768 × 3072 and 3072 × 768 products at
    // 5 TFLOP/s in every form, where the step runs them near 25; cause not found)
    const [given, inOff, inOn, apartOff, apartOn, two] = await interleavedKernelMs(
      [
        () => core.clippedOuterSumWithBias(o.a, o.dy, o.c),
        under(false, true, product),
        under(true, true, product),
        under(false, true, apartRun),
        under(true, true, apartRun),
        under(true, false, product),
      ],
      reps,
    );
    const inProduct: [number, number] = [inOff!, inOn!];
    const apart: [number, number] = [apartOff!, apartOn!];
    const flop = 2 * m.b * m.t * (d + 1) * p;
    // the product's problem: xᵀ·y with a row of ones under xᵀ (the bias), K = B·T
    const tuned = core.matmulTuning().find(({ problem: q }) => q.m === d + 1 && q.n === p && q.k === m.b * m.t)?.choice;
    console.log(`| ${m.name} | ${d} × ${p} | ${count} | ${given!.toFixed(3)} | ${pair(inProduct)} | ${pair(apart)} | ${two!.toFixed(3)} | ${(inOn! / given!).toFixed(2)} | ${(flop / given! / 1e9).toFixed(1)} | ${tuned ? `${tuned.tile}×${tuned.splits}` : 'heuristic'} |`);
  }
  tf.dispose(ops.flatMap((o) => [o.a, o.dy, o.partials, o.c]));
  core.clearMatmulTuning();
  // a layer norm's γ and β per-sample gradients [B, d] (d of the model's first layer)
  const d = m.layers[0]![0];
  const rows = [tf.randomNormal([m.b, d]), tf.randomNormal([m.b, d])] as tf.Tensor2D[];
  const oneGroup = () => core.clippedRowSums(rows, [0, 0], [clip]) as unknown as tf.TensorContainer;
  const twoGroups = () => core.clippedRowSums(rows, [0, 1], [clip, { ...clip, threshold: 0.5 }]) as unknown as tf.TensorContainer;
  const [oneOff, oneOn, twoOff, twoOn] = await interleavedKernelMs(
    [under(false, true, oneGroup), under(true, true, oneGroup), under(false, true, twoGroups), under(true, true, twoGroups)],
    reps,
  );
  const one: [number, number] = [oneOff!, oneOn!];
  const two: [number, number] = [twoOff!, twoOn!];
  norms.push(`| ${m.name} | ${m.b} × ${d} | ${pair(one)} | ${pair(two)} |`);
  tf.dispose(rows);
}
console.log('\n| model | γ, β per-sample [B × d] | one group ms (serial → parallel) | two groups ms (serial → parallel) |');
console.log('| --- | --- | ---: | ---: |');
for (const line of norms) console.log(line);
console.log(`(device time from timestamp queries, each form once a round, median of ${reps} rounds; matmul tiles tuned first: ${values.tuning !== 'off'}; core: ${process.env.CLIPWISE_CORE_DIST ?? '@clipwise/core'})`);
