import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clipInProductEnabled, fusedGhostNormEnabled, ghostKernelShape, ghostSplitTarget, ghostTileRows, matmulTuningActive, narrowTilesEnabled } from '@clipwise/core';
import { deferredGhostNormsEnabled, pairedBiasClipEnabled } from '@clipwise/ghost-norm';
import { ghostSplit, splitGroupings } from '../src/commands/bench';
import { abPairs, abVerdict, AB_SWITCHES, pairedRounds, withSwitch, type BenchRow } from '../src/profile/run-bench';
import { run } from './train-helpers';

// a one-block GPT-2 (about 4k parameters) on the cpu backend
// narrow tiles' default: on unless CLIPWISE_MATMUL_NARROW=off
const NARROW_DEFAULT = process.env.CLIPWISE_MATMUL_NARROW !== 'off';
const SHAPE = ['--backend', 'cpu', '--model', 'gpt2-tiny', '--model-config', '{"n_embd":16,"n_layer":1,"n_head":2}', '--batch-size', '4', '--seq-len', '8', '--reps', '1', '--warmup', '0'];

describe('clipwise bench', () => {
  it('measures every configuration against the non-private step of the same run and writes the rows as JSON', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-bench-'));
    const json = path.join(dir, 'bench.json');
    const { code, out, err } = await run(['bench', ...SHAPE, '--groupings', 'all-layer,layer-wise,non-uniform', '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/\| configuration \| groups \| step ms/);
    expect(out).toMatch(/optimizer adamw,/); // the default of bench and profile
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Array<Record<string, number | string>>;
    expect(rows.map((r) => String(r['grouping']).split(':')[0])).toEqual(['non-private', 'all-layer', 'layer-wise', 'non-uniform']);
    const [np, all, layer] = rows as [Record<string, number>, Record<string, number>, Record<string, number>];
    for (const r of rows as Array<Record<string, number>>) {
      for (const k of ['stepMs', 'peakBytes', 'stepRatio', 'peakRatio', 'predictedPeakBytes', 'heldBytes']) expect(Number.isFinite(r[k]), k).toBe(true);
      expect(r['stepRatio']).toBeCloseTo(r['stepMs']! / np['stepMs']!, 10);
      expect(r['peakRatio']).toBeCloseTo(r['peakBytes']! / np['peakBytes']!, 10);
      expect(Math.abs(r['predictedPeakBytes']! - r['peakBytes']!) / r['peakBytes']!).toBeLessThan(0.1);
      expect(r['leakedBytes']).toBe(0);
      expect(r['hostWriteBytes']).toBeNull(); // counted on webgpu only
      expect(r['gpuBusyMs']).toBeNull(); // pass times: webgpu with --gpu-passes on (NaN, written as null)
    }
    expect(out).not.toMatch(/GPU busy ms/);
    expect(np['stepRatio']).toBe(1);
    // all-layer holds every layer's record to the end of backward; layer-wise frees them as they come
    expect(all['heldBytes']).toBeGreaterThan(2 * layer['heldBytes']!);
    expect(Math.abs(all['predictedHeldBytes']! - all['heldBytes']!)).toBeLessThan(0.05 * all['heldBytes']!);
  });

  // A step whose inputs are already tensors uploads next to nothing: scalars. One tf.zeros of the
  // embedding's gradient (a zeroed host array) cost GPT-2's step 115 ms on an H100 and shows here.
  // (with --gpu-passes on: the device's busy and idle time per step, on its own clock)
  it.runIf(process.env.CLIPWISE_BACKEND === 'webgpu')('webgpu: no configuration uploads more than scalars from the host a step; --gpu-passes on times the passes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-bench-'));
    const json = path.join(dir, 'bench.json');
    const shape = SHAPE.map((a) => (a === 'cpu' ? 'webgpu' : a));
    const { code, out, err } = await run(['bench', ...shape, '--groupings', 'all-layer,layer-wise,param-wise', '--gpu-passes', 'on', '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/\| host ms \| GPU busy ms \| GPU idle ms \|/);
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Array<Record<string, number | string>>;
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      expect(typeof r['hostWriteBytes'], String(r['grouping'])).toBe('number');
      expect(r['hostWriteBytes'], String(r['grouping'])).toBeLessThan(1024);
      // the device's time in passes is within the step's wall time
      expect(r['gpuBusyMs'], String(r['grouping'])).toBeGreaterThan(0);
      expect(r['gpuBusyMs'], String(r['grouping'])).toBeLessThanOrEqual(Number(r['stepMs']));
      expect(r['gpuIdleMs'], String(r['grouping'])).toBeGreaterThanOrEqual(0);
    }
  });

  /** A GPT-2 of one block on the backend under test (webgpu under test:gpu, else cpu): its bench rows' predicted peak over the measured, less one. */
  const predictionErrors = async (config: string, args: string[], model = 'gpt2-tiny') => {
    const backend = process.env.CLIPWISE_BACKEND === 'webgpu' ? 'webgpu' : 'cpu';
    const json = path.join(mkdtempSync(path.join(tmpdir(), 'clipwise-bench-')), 'bench.json');
    const { code, err } = await run(['bench', '--backend', backend, '--model', model, '--model-config', config, '--reps', '1', '--groupings', 'all-layer', ...args, '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Array<Record<string, number | string>>;
    return new Map(rows.map((r) => [String(r['grouping']), Math.abs(Number(r['predictedPeakBytes']) - Number(r['peakBytes'])) / Number(r['peakBytes'])]));
  };

  it('predicts the non-private step from its own plain sums: its peak as measured, as the private steps\' (webgpu under test:gpu, else cpu)', async () => {
    // on webgpu the clipped sums fold the clip factors into a fused product and the plain sums run a
    // matmul, with other temporaries: traced with the clipped ones, the non-private step was predicted
    // one [vocabulary, width] tensor high (55.43 against 53.48 MiB here on lavapipe)
    const errors = await predictionErrors('{"n_embd":32,"n_layer":1,"n_head":2,"vocab_size":4000}', ['--batch-size', '4', '--seq-len', '32', '--warmup', '0']);
    for (const [grouping, e] of errors) expect(e, grouping).toBeLessThan(0.002);
  });

  it('predicts a tied weight\'s second sum added to its first: the non-private peak where the [vocabulary, width] sums dominate', async () => {
    // d > B·T: the embedding's sum, added to the LM head's, holds both and their total (predicted 2.18
    // against 3.15 MiB here before)
    const errors = await predictionErrors('{"n_embd":64,"n_layer":1,"n_head":2,"vocab_size":4000}', ['--batch-size', '1', '--seq-len', '4', '--optimizer', 'none']);
    expect(errors.get('non-private')).toBeLessThan(0.002);
  });

  it('predicts a record made inside its layer\'s gradient: dy held twice while the record is processed (webgpu under test:gpu, else cpu)', async () => {
    // the record views dy, which the gradient function made and frees when it returns, after the record's
    // norms and sums: on lavapipe ViT-tiny B8 all-layer was predicted 5.069 against 5.325 MiB before
    const errors = await predictionErrors('{}', ['--batch-size', '8', '--warmup', '0', '--groupings', 'all-layer,layer-wise'], 'vit-tiny');
    for (const grouping of ['all-layer', 'layer-wise']) expect(errors.get(grouping), grouping).toBeLessThan(0.002);
  });

  it('--trainable: rows per trainable mode beside full fine-tuning, ratios to full fine-tuning\'s non-private step; bias-only holds less', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-bench-'));
    const json = path.join(dir, 'bench.json');
    const { code, err } = await run(['bench', ...SHAPE, '--trainable', 'all,bias,lora:2', '--groupings', 'inference,all-layer', '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Array<Record<string, number | string | null>>;
    expect(rows.map((r) => `${r['trainable']} ${r['grouping']}`)).toEqual([
      'all non-private', 'all inference', 'all all-layer', 'bias non-private', 'bias inference', 'bias all-layer', 'lora:2 non-private', 'lora:2 inference', 'lora:2 all-layer',
    ]);
    const at = (t: string, g: string) => rows.find((r) => r['trainable'] === t && r['grouping'] === g)! as Record<string, number>;
    expect(at('bias', 'all-layer')['stepRatio']).toBeCloseTo(at('bias', 'all-layer')['stepMs']! / at('all', 'non-private')['stepMs']!, 10);
    expect(at('bias', 'all-layer')['trainedCount']).toBe(48 + 16 + 64 + 16 + 3 * 16); // c_attn, attn.c_proj, c_fc, mlp.c_proj biases; ln_1, ln_2, ln_f β
    // the records of a bias-only step hold dy alone (no activations): less held for clipping than full fine-tuning's
    expect(at('bias', 'all-layer')['heldBytes']).toBeLessThan(at('all', 'all-layer')['heldBytes']!);
    expect(at('all', 'inference')['predictedPeakBytes']).toBeNull();
    expect((await run(['bench', ...SHAPE, '--trainable', 'bias', '--budget-mib', '100'])).err).toMatch(/--budget-mib sizes full fine-tuning only/);
    expect((await run(['bench', ...SHAPE, '--trainable', 'lora:0'])).err).toMatch(/--trainable lora:0: LoRA rank must be a positive integer, got 0/);
    expect((await run(['profile', ...SHAPE, '--grouping', 'inference'])).err).toMatch(/--grouping inference: profile takes a training step's grouping/);
  });

  it('--ab narrow-tiles: each configuration off and on in the same rounds, ratios to the non-private step with it off; refused beside tuning', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-bench-ab-'));
    const json = path.join(dir, 'bench.json');
    const { code, out, err } = await run(['bench', ...SHAPE, '--reps', '2', '--groupings', 'all-layer', '--ab', 'narrow-tiles', '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('A/B of narrow-tiles');
    expect(out).toContain("note: narrow-tiles changes webgpu's kernels only; on cpu the A/B's two sides run the same kernels");
    // a timed round holds all four steps
    expect(out).toMatch(/timed round 1\/2: \d+ \d+ \d+ \d+ ms/);
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Array<Record<string, number | string>>;
    expect(rows.map((r) => r['grouping'])).toEqual(['non-private', 'non-private +narrow-tiles', 'all-layer', 'all-layer +narrow-tiles']);
    expect(rows[0]!['stepRatio']).toBe(1);
    expect(rows[1]!['stepRatio']).toBeCloseTo(Number(rows[1]!['stepMs']) / Number(rows[0]!['stepMs']), 10);
    // the switch changes no memory on cpu: both sides peak alike
    expect(rows[3]!['peakBytes']).toBe(rows[2]!['peakBytes']);
    expect(out).toMatch(/\| all \| all-layer \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ \| \d of 2 \|/); // the paired table
    expect(narrowTilesEnabled()).toBe(NARROW_DEFAULT); // put back
    const tuned = await run(['bench', ...SHAPE, '--ab', 'narrow-tiles', '--matmul-tuning', 'on']);
    expect(tuned.code).toBe(2);
    expect(tuned.err).toMatch(/--ab narrow-tiles cannot run with --matmul-tuning on/);
    const untuned = await run(['bench', ...SHAPE, '--ab', 'matmul-tuning', '--matmul-tuning', 'off']);
    expect(untuned.code).toBe(2);
    expect(untuned.err).toMatch(/--ab matmul-tuning tunes the tiles first/);
    const variantUntuned = await run(['bench', ...SHAPE, '--ab', 'variant-tuning', '--matmul-tuning', 'off']);
    expect(variantUntuned.code).toBe(2);
    expect(variantUntuned.err).toMatch(/--ab variant-tuning tunes the tiles first and times the scaled products' own tuned plans/);
    const bad = await run(['bench', ...SHAPE, '--ab', 'wide-tiles']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--ab/);
  });

  it('abPairs: each configuration\'s rounds paired, the median difference and the rounds the on side won', () => {
    const row = (grouping: string, stepMsAll: number[], trainable = 'all') => ({ trainable, grouping, stepMs: [...stepMsAll].sort((a, b) => a - b)[1]!, stepMsAll }) as unknown as BenchRow;
    // the device slows down over the bench: round 3 is slow on both sides
    const rows = [row('non-private', [100, 101, 140]), row('non-private +ghost-tiles', [101, 102, 141]), row('all-layer', [150, 151, 190]), row('all-layer +ghost-tiles', [145, 147, 183])];
    const pairs = abPairs(rows, 'ghost-tiles');
    expect(pairs.map((p) => [p.configuration, p.medianDiffMs, p.onFaster, p.rounds])).toEqual([['non-private', 1, 0, 3], ['all-layer', -5, 3, 3]]);
    expect(pairs[1]).toMatchObject({ offMs: 151, onMs: 147 });
    // the spread is the median absolute deviation of the round differences: [1, 1, 1] → 0, [-5, -4, -7] → 1
    expect(pairs.map((p) => p.spreadMs)).toEqual([0, 1]);
    // the verdict: all-layer's −5 ms beats its spread in 3 of 3 rounds; non-private's +1 ms is no win
    expect(pairs.map(abVerdict)).toEqual(['no win', 'wins']);
    expect(abVerdict({ medianDiffMs: -1, spreadMs: 1.5, onFaster: 9, rounds: 9 })).toBe('no win'); // inside the spread
    expect(abVerdict({ medianDiffMs: -3, spreadMs: 0.5, onFaster: 5, rounds: 9 })).toBe('no win'); // too few rounds won
    expect(abVerdict({ medianDiffMs: 1.5, spreadMs: 0.5, onFaster: 0, rounds: 9 })).toBe('loses');
    // another trainable mode's rows pair with their own
    expect(abPairs([row('all-layer', [10, 12, 14], 'bias'), row('all-layer +ghost-tiles', [9, 13, 12], 'bias')], 'ghost-tiles')[0]).toMatchObject({ trainable: 'bias', medianDiffMs: -1, onFaster: 2 });
    // the pairing alone (enqueue-ab.ts's host-time A/B uses it): rounds beyond the shorter side are left out
    expect(pairedRounds([10, 12, 11, 50], [9, 11.5, 11.2])).toEqual({ medianDiff: -0.5, spread: 0.5, onLower: 2, rounds: 3 });
  });

  it('withSwitch: the switch is on while the step runs and back to its default after, also when the step throws', async () => {
    const calls: Array<boolean | null> = [];
    const flip = (on: boolean | null) => calls.push(on);
    const seen: Array<boolean | null> = [];
    await withSwitch(async () => seen.push(calls.at(-1)!), flip, true)();
    expect(seen).toEqual([true]);
    expect(calls).toEqual([true, null]);
    await expect(withSwitch(async () => Promise.reject(new Error('step failed')), flip, false)()).rejects.toThrow('step failed');
    expect(calls).toEqual([true, null, false, null]);
    // the real switches: on inside, the default after (tuned plans active)
    expect(await withSwitch(async () => matmulTuningActive(), AB_SWITCHES['matmul-tuning'], false)()).toBe(false);
    expect(matmulTuningActive()).toBe(true);
    const inside = await withSwitch(async () => narrowTilesEnabled(), AB_SWITCHES['narrow-tiles'], true)();
    expect(inside).toBe(true);
    expect(narrowTilesEnabled()).toBe(NARROW_DEFAULT);
    // ghost-matmul on: the fused ghost kernel off while the step runs, on again after
    expect(await withSwitch(async () => fusedGhostNormEnabled(), AB_SWITCHES['ghost-matmul'], true)()).toBe(false);
    expect(await withSwitch(async () => fusedGhostNormEnabled(), AB_SWITCHES['ghost-matmul'], false)()).toBe(true);
    expect(fusedGhostNormEnabled()).toBe(true);
    // ghost-tiles-64 on: 64-row tiles, the 16x2 split and the K split; the defaults after
    const [rowsIn, shapeIn, splitIn] = await withSwitch(async () => [ghostTileRows(128), ghostKernelShape(), ghostSplitTarget()] as const, AB_SWITCHES['ghost-tiles-64'], true)();
    expect([rowsIn, shapeIn, splitIn]).toEqual([64, { bk: 16, kg: 2 }, 2048]);
    expect([ghostTileRows(128), ghostKernelShape()]).toEqual([32, { bk: 32, kg: 2 }]);
  });

  it('splits grouping lists, keeping a non-uniform spec’s own commas', () => {
    expect(splitGroupings('all-layer,non-uniform:h.1,h.2,uniform:4')).toEqual(['all-layer', 'non-uniform:h.1,h.2', 'uniform:4']);
    expect(splitGroupings('layer-wise; param-wise')).toEqual(['layer-wise', 'param-wise']);
  });

  it('names the bad argument', async () => {
    const zero = await run(['bench', '--batch-size', '0']);
    expect(zero.code).toBe(2);
    expect(zero.err).toMatch(/--batch-size must be a positive integer, got '0'/);
    expect((await run(['bench', '--backend', 'cpu', '--model', 'gpt3'])).err).toMatch(/--model 'gpt3' is not a preset; expected one of gpt2, gpt2-tiny/);
    expect((await run(['profile', '--backend', 'cpu', '--model', 'vit-tiny', '--seq-len', '10'])).err).toMatch(/--seq-len 10 does not apply to vit-tiny: its sequence is 65/);
    expect((await run(['bench', '--model-config', '[1]'])).err).toMatch(/--model-config must be a JSON object/);
    expect((await run(['bench', '--optimizer', 'lamb'])).err).toMatch(/--optimizer must be one of sgd, adamw, none, got 'lamb'/);
    expect((await run(['bench', '--kernels', 'ten'])).err).toMatch(/--kernels must be an integer ≥ 0, got 'ten'/);
    expect((await run(['bench', '--fused', 'maybe'])).err).toMatch(/--fused must be one of on, off, got 'maybe'/);
    expect((await run(['bench', '--uploads', 'dma'])).err).toMatch(/--uploads must be one of queue, staging, got 'dma'/);
    expect((await run(['bench', ...SHAPE, '--vit-qkv', 'packed'])).err).toMatch(/--vit-qkv packed applies to ViT presets; gpt2-tiny is a GPT-2/);
    expect((await run(['bench', ...SHAPE, '--ab', 'ghost-tiles-64', '--ghost-split', '16x4'])).err).toMatch(/--ab ghost-tiles-64 sets the ghost kernel's work split \(16x2 on its on side\) itself; drop --ghost-split 16x4/);
    expect((await run(['bench', ...SHAPE, '--ab', 'ghost-matmul', '--ghost-kernel', 'matmul'])).err).toMatch(/--ab ghost-matmul sets the ghost kernel \(fused or Gram matmuls\) itself; drop --ghost-kernel matmul/);
  });

  it("--vit-qkv packed benches timm's layout: one q|k|v group in layer-wise, fewer groups than the separate layout", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-bench-'));
    const groupsOf = async (qkv: string) => {
      const json = path.join(dir, `${qkv}.json`);
      const r = await run(['bench', '--backend', 'cpu', '--model', 'vit-tiny', '--batch-size', '2', '--reps', '1', '--warmup', '0', '--groupings', 'layer-wise', '--vit-qkv', qkv, '--json', json]);
      expect(r.err).toBe('');
      if (qkv === 'packed') expect(r.out).toMatch(/vit-tiny \(layers \d+, hidden \d+, image \d+\/\d+, q\|k\|v packed\)/);
      const rows = JSON.parse(readFileSync(json, 'utf8')) as { grouping: string; groups?: number }[];
      return rows.find((row) => row.grouping === 'layer-wise')!;
    };
    const [separate, packed] = [await groupsOf('separate'), await groupsOf('packed')];
    // vit-tiny's two blocks: each one group for q|k|v where the separate layout has three
    expect(separate.groups).toBe(21);
    expect(packed.groups).toBe(separate.groups! - 2 * 2);
  });

  it('--kernels prints where a step spends its launches; fused kernels off launch more (GELU and softmax as plain ops)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-bench-'));
    const counts: Record<string, number> = {};
    for (const fused of ['on', 'off']) {
      const json = path.join(dir, `bench-${fused}.json`);
      const { code, out, err } = await run(['bench', ...SHAPE, '--groupings', 'all-layer', '--kernels', '4', '--fused', fused, '--json', json]);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`fused kernels ${fused}`));
      expect(out).toMatch(/\d+ launches \(\d+ profile entries\), kernel time [\d.]+ ms; top 4:\n\| kernel \| launches \| ms \| share \|/);
      const rows = JSON.parse(readFileSync(json, 'utf8')) as Array<{ grouping: string; launches: number; kernelMs: number }>;
      for (const r of rows) expect(r.kernelMs).toBeGreaterThan(0);
      // the private step launches the non-private step's kernels and its norms and clipping on top
      expect(rows[1]!.launches).toBeGreaterThan(rows[0]!.launches);
      counts[fused] = rows[0]!.launches;
    }
    expect(counts['off']).toBeGreaterThan(counts['on']!);
  });

  it('--ghost-batching / --clip-in-product / --paired-bias-clip off: the befores of the private steps\' launch cuts, reported, and put back on afterwards', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-bench-'));
    const rows: Record<string, Array<{ grouping: string; launches: number; peakBytes: number }>> = {};
    for (const mode of ['on', 'off']) {
      const json = path.join(dir, `bench-${mode}.json`);
      const { code, out, err } = await run(['bench', ...SHAPE, '--groupings', 'all-layer,layer-wise,param-wise', '--kernels', '1', '--ghost-batching', mode, '--clip-in-product', mode, '--paired-bias-clip', mode, '--json', json]);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`ghost batching ${mode}, clip in product ${mode}, paired bias clip ${mode}`));
      rows[mode] = JSON.parse(readFileSync(json, 'utf8'));
    }
    expect(deferredGhostNormsEnabled()).toBe(true);
    expect(clipInProductEnabled()).toBe(true);
    expect(pairedBiasClipEnabled()).toBe(true);
    // both act on webgpu only (cpu: the same launches); the records and so the peaks are the same either way
    rows['on']!.forEach((r, i) => {
      expect(rows['off']![i]!.launches).toBe(r.launches);
      expect(rows['off']![i]!.peakBytes).toBe(r.peakBytes);
    });
    const bad = await run(['bench', ...SHAPE, '--ghost-batching', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--ghost-batching/);
    const split = await run(['bench', ...SHAPE, '--ghost-split', '12x4']);
    expect(split.code).toBe(2);
    expect(split.err).toMatch(/--ghost-split must be BKxKG .* got '12x4'/);
    expect(ghostSplit('32x2')).toEqual({ bk: 32, kg: 2 });
    const classes = await run(['bench', ...SHAPE, '--pool-classes', '12']);
    expect(classes.code).toBe(2);
    expect(classes.err).toMatch(/--pool-classes must be a power of two from 1 to 64, got 12/);
  });
});

describe('clipwise profile', () => {
  it('prints the mixed rule per layer and measured next to predicted per phase, and writes the report', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-profile-'));
    const { code, out, err } = await run(['profile', ...SHAPE, '--grouping', 'layer-wise', '--out', dir]);
    expect(err).toBe('');
    expect(code).toBe(0);
    // T = 8, d = 16: c_fc (16 -> 64) is ghost (2·64 ≤ 1024); the tied LM head (16 -> 257) too
    expect(out).toMatch(/\| transformer\.h\.0\.mlp\.c_fc \| weight \| 8 \| 16 \| 64 \| ghost \|/);
    expect(out).toMatch(/\| phase \| measured ms \| measured peak MiB \| predicted peak MiB \|/);
    for (const phase of ['forward', 'backward', 'norms', 'clipped-sums', 'noise', 'update']) expect(out).toMatch(new RegExp(`\\| ${phase} \\| \\d`));
    const result = JSON.parse(readFileSync(path.join(dir, 'profile.json'), 'utf8'));
    expect(result.grouping).toBe('layer-wise');
    expect(result.layers.length).toBeGreaterThan(10);
    expect(result.measuredTimeline.length).toBeGreaterThan(100);
    const html = readFileSync(path.join(dir, 'profile.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).toMatch(/records held by open groups/);
    expect(html).not.toMatch(/<script/);
  });
});
