// Achieved fp32 TFLOP/s of the matmul shapes of a GPT-2 small (B16×T128) and ViT-B/16 (B32) training
// step: TF.js's own webgpu kernel, each Clipwise tile (with split-K where the reduction is long), and
// the tile the plan picks. Run on the GPU machine; prints a markdown table and writes JSON with --json.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/matmul-tiles.ts -- --reps 20
import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MATMUL_TILES, planMatmul, setFusedKernels, setMatmulTileOverride, setupBackend, type MatmulTileName } from '@clipwise/core';

const { values } = parseArgs({ options: { reps: { type: 'string' }, json: { type: 'string' }, only: { type: 'string' } }, allowPositionals: true });
const reps = Number(values.reps ?? 20);
await setupBackend('webgpu');

/** [label, batch, M, N, K, transposeA, transposeB] as the step calls them. */
type Shape = [string, number, number, number, number, boolean, boolean];
const SHAPES: Shape[] = [
  ['gpt2 qkv fwd', 1, 2048, 2304, 768, false, false],
  ['gpt2 mlp up fwd', 1, 2048, 3072, 768, false, false],
  ['gpt2 mlp down fwd', 1, 2048, 768, 3072, false, false],
  ['gpt2 attn proj fwd', 1, 2048, 768, 768, false, false],
  ['gpt2 lm head fwd', 1, 2048, 50257, 768, false, true],
  ['gpt2 lm head dx', 1, 2048, 768, 50257, false, false],
  ['gpt2 qkv dx', 1, 2048, 768, 2304, false, true],
  ['gpt2 qkv dW (Aᵀ·dy)', 1, 768, 2304, 2048, true, false],
  ['gpt2 attn proj dW', 1, 768, 768, 2048, true, false],
  ['gpt2 lm head dW (dyᵀ·A)', 1, 50257, 768, 2048, true, false],
  ['gpt2 QKᵀ', 192, 128, 128, 64, false, true],
  ['gpt2 PV', 192, 128, 64, 128, false, false],
  ['gpt2 ghost a·aᵀ', 16, 128, 128, 768, false, true],
  ['gpt2 ghost dy·dyᵀ (LM head)', 16, 128, 128, 50257, false, true],
  ['vit qkv fwd', 1, 6304, 2304, 768, false, false],
  ['vit mlp down fwd', 1, 6304, 768, 3072, false, false],
  ['vit mlp up dW', 1, 768, 3072, 6304, true, false],
  ['vit QKᵀ', 384, 197, 197, 64, false, true],
  ['vit PV', 384, 197, 64, 197, false, false],
  ['vit ghost a·aᵀ', 32, 197, 197, 768, false, true],
  // ViT's [out, in] projections as its step runs them (x·Wᵀ, dy·W, dyᵀ·x): q, k, v and the attention
  // output apart (768 → 768, HF's layout), and q|k|v packed as timm's ViT does (768 → 2304)
  ['vit-768 q fwd', 1, 6304, 768, 768, false, true],
  ['vit-768 qkv fwd (packed)', 1, 6304, 2304, 768, false, true],
  ['vit-768 q dx', 1, 6304, 768, 768, false, false],
  ['vit-768 qkv dx (packed)', 1, 6304, 768, 2304, false, false],
  ['vit-768 q dW', 1, 768, 768, 6304, true, false],
  ['vit-768 qkv dW (packed)', 1, 2304, 768, 6304, true, false],
  ['vit-768 mlp down fwd', 1, 6304, 768, 3072, false, true],
];

async function sync(t: tf.Tensor): Promise<void> {
  const one = tf.slice(tf.reshape(t, [-1]), [0], [1]);
  await one.data();
  one.dispose();
}

/** Device ms per product of one timing: `inner` back-to-back products (timestamps tick coarsely, ~65 µs seen on the H200). */
async function timeOnce(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean, inner: number): Promise<number> {
  const outs: tf.Tensor[] = [];
  const info = await tf.time(() => {
    for (let i = 0; i < inner; i++) outs.push(tf.matMul(a, b, ta, tb));
  });
  tf.dispose(outs);
  return (info.kernelMs as number) / inner;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Split-K runs timed beside the tiles: the large tiles with 2 to 8 slices of K (fewer where K is short). */
const SPLITS: [MatmulTileName, number][] = [['large8', 2], ['large8', 3], ['large', 4], ['large', 8]];
const rows: Record<string, unknown>[] = [];
const tiles = Object.keys(MATMUL_TILES) as MatmulTileName[];
/** What is timed per shape: TF.js's kernel, each tile, the split-K runs, the plan; each sets its kernel up. */
const candidates: { readonly label: string; readonly apply: () => void }[] = [
  { label: 'tfjs', apply: () => (setFusedKernels(false), setMatmulTileOverride(null)) },
  ...tiles.map((tile) => ({ label: tile, apply: () => (setFusedKernels(true), setMatmulTileOverride({ tile })) })),
  ...SPLITS.map(([tile, splits]) => ({ label: `${tile}x${splits}`, apply: () => (setFusedKernels(true), setMatmulTileOverride({ tile, splits })) })),
  { label: 'plan', apply: () => (setFusedKernels(true), setMatmulTileOverride(null)) },
];
console.log(`| shape | batch×M×N×K | TF.js | ${tiles.join(' | ')} | large8 split-K ×2 / ×3, large ×4 / ×8 | plan (tile, splits) | plan TFLOP/s |`);
console.log(`| --- | --- | ---: | ${tiles.map(() => '---:').join(' | ')} | ---: | --- | ---: |`);
for (const [label, batch, m, n, k, ta, tb] of SHAPES) {
  if (values.only && !label.includes(values.only)) continue;
  const a = tf.randomNormal(batch > 1 ? [batch, ...(ta ? [k, m] : [m, k])] : ta ? [k, m] : [m, k]);
  const b = tf.randomNormal(batch > 1 ? [batch, ...(tb ? [n, k] : [k, n])] : tb ? [n, k] : [k, n]);
  const flops = 2 * batch * m * n * k;
  const tflops = (ms: number) => flops / ms / 1e9;
  const inner = Math.max(1, Math.min(20, Math.round(20e9 / flops)));
  // each candidate compiled and run once, then `reps` rounds over all of them in a rotated order:
  // the rates of one shape drifted 2–3× over a run on an H100 (2026-12-06), which timing each
  // candidate's reps together put on whichever came last
  for (const c of candidates) {
    c.apply();
    const w = tf.matMul(a, b, ta, tb);
    await sync(w);
    w.dispose();
  }
  const samples = candidates.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < candidates.length; j++) {
      const at = (j + r) % candidates.length;
      candidates[at]!.apply();
      samples[at]!.push(await timeOnce(a, b, ta, tb, inner));
    }
  }
  setFusedKernels(true);
  setMatmulTileOverride(null);
  const ms = samples.map(median);
  const [tfjs, perTile, splits, planned] = [ms[0]!, ms.slice(1, 1 + tiles.length), ms.slice(1 + tiles.length, 1 + tiles.length + SPLITS.length), ms[ms.length - 1]!];
  const plan = planMatmul(batch, m, n, k);
  const f = (x: number) => `${tflops(x).toFixed(1)}`;
  console.log(`| ${label} | ${batch}×${m}×${n}×${k} | ${f(tfjs)} | ${perTile.map(f).join(' | ')} | ${splits.map(f).join(' / ')} | ${plan.tileName}, ${plan.splits} | ${f(planned)} (${planned.toFixed(2)} ms) |`);
  rows.push({ label, batch, m, n, k, ta, tb, gflop: flops / 1e9, tfjsMs: tfjs, tileMs: Object.fromEntries(tiles.map((t, i) => [t, perTile[i]])), splitMs: Object.fromEntries(SPLITS.map(([t, s], i) => [`${t}x${s}`, splits[i]])), plan: { tile: plan.tileName, splits: plan.splits }, planMs: planned });
  tf.dispose([a, b]);
}
console.log(`(TFLOP/s from device time (timestamp queries), median of ${reps} rounds over every candidate in a rotated order, up to 20 products a timing; Dawn flags: ${process.env.CLIPWISE_DAWN_FLAGS ?? 'none'})`);
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
