import { DEFAULT_GHOST_KERNEL_SHAPE, isGhostKernelShape, isPoolClassSteps, type GhostKernelShape } from '@clipwise/core';
import type { CommandSpec } from '../flags/command-spec';
import { UsageError } from '../usage-error';
import { resolveFlags, type FlagSpec } from '../flags/flag-spec';
import { AB_SWITCHES, abTunesFirst, DEFAULT_BENCH_GROUPINGS, runBench, type AbSwitch, type BenchRow } from '../profile/run-bench';
import { runMaxBatch, type MaxBatchRow } from '../profile/max-batch';
import { shapeFlags, shapeSettings } from './profile-args';

const BENCH_FLAGS: readonly FlagSpec[] = [
  ...shapeFlags({ batchSize: 16, reps: 5 }),
  { name: 'groupings', kind: 'string', value: 'G1,G2,...', description: "configurations besides non-private ('non-uniform' alone picks boundaries half and three quarters through the layers)", defaultText: DEFAULT_BENCH_GROUPINGS.filter((g) => g !== 'non-private').join(',') },
  { name: 'trainable', kind: 'string', value: 'M1,M2,...', description: "trainable modes, each benched with every configuration: all (full fine-tuning), bias (DP-BiTFiT), last:K, lora:R (rank R on c_attn / query,value); ratios are to the first mode's non-private step. Add 'inference' to --groupings for the forward pass alone", default: 'all' },
  { name: 'json', kind: 'string', value: 'FILE', description: 'also write the rows as JSON to FILE' },
  { name: 'kernels', kind: 'int', value: 'N', unit: 'kernels', default: 0, description: "print each configuration's top N kernels by device time" },
  { name: 'gpu-passes', kind: ['on', 'off'], default: 'off', description: "webgpu: time each timed step's compute passes on the device's clock (timestamp-query): columns 'GPU busy ms' (inside passes) and 'GPU idle ms' (between them: the device waiting for the host to submit)" },
  { name: 'fused', kind: ['on', 'off'], default: 'on', description: 'fused kernels, or the plain TF.js ops they replace (the "before" of a before/after table)' },
  { name: 'uploads', kind: ['queue', 'staging'], description: "webgpu uploads: queue.writeBuffer, or TF.js's own staging buffers", defaultText: 'queue' },
  { name: 'dispatch', kind: ['lean', 'tfjs'], description: "webgpu launches: core's lean recording (a uniform arena, reused bind groups), or TF.js's own (the before of a before/after)", defaultText: 'lean' },
  { name: 'submit-every', kind: 'pos', value: 'N', unit: 'dispatches', description: "webgpu: dispatches per queue submit (TF.js's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE)", defaultText: '15' },
  { name: 'compact-records', kind: ['on', 'off'], description: "records that wait for their group (all-layer clipping) hold their layer norms' and biases' per-sample gradients (a layer norm's instead of x̂ and dy), whose norms and clipped sums are then formed together; off: the before of a before/after", defaultText: 'on' },
  { name: 'ghost-kernel', kind: ['fused', 'matmul'], description: "webgpu ghost norms of linear layers: one fused kernel, or the two Gram matmuls and a row reduction (the before of a before/after)", defaultText: 'fused' },
  { name: 'ghost-batching', kind: ['on', 'off'], description: "webgpu: records that wait for their group (all-layer, uniform) hand their ghost norms to the group's close, which launches them (a layer a launch) into one partials tensor; off: one ghost-norm launch per linear layer as it arrives (the before of a before/after)", defaultText: 'on' },
  { name: 'clip-in-product', kind: ['on', 'off'], description: "webgpu: a group that is one linear layer (layer-wise) or its weight (param-wise) forms its clip factors inside its clipped sum's product; off: their own launch first (the before of a before/after)", defaultText: 'on' },
  { name: 'paired-bias-clip', kind: ['on', 'off'], description: "webgpu, param-wise: a linear layer's weight and bias (each a group) clipped through one ghost-norm launch and one product, the bias's factors scaling the product's bias row; off: the bias's norm, factors and sum in launches of their own (the before of a before/after)", defaultText: 'on' },
  { name: 'ghost-split', kind: 'string', value: 'BKxKG', description: "webgpu: the ghost-norm kernel's work split (core's setGhostKernelShape): K a step per K group (8, 16, 32) × K groups of 64 threads (1, 2, 4, 8)", defaultText: `${DEFAULT_GHOST_KERNEL_SHAPE.bk}x${DEFAULT_GHOST_KERNEL_SHAPE.kg}` },
  { name: 'matmul-tuning', kind: ['on', 'off'], description: "webgpu: time every tile on the step's matmul shapes once before measuring and run each shape on its fastest (core's autotuneMatmul; the table goes to the log; the tuning is not timed); off: the heuristic plan alone. It paid 1.9-4.3 ms a ViT-B/16 step on an H100 (interleaved A/B, 9 rounds)", defaultText: 'CLIPWISE_MATMUL_TUNING, else on (off under --ab of another switch, and on a software adapter such as lavapipe)' },
  { name: 'pool', kind: ['size-class', 'exact'], description: "webgpu buffer pool: size classes that share freed buffers between nearby sizes, or TF.js's own exact-size pool (the before of a before/after)", defaultText: 'size-class' },
  { name: 'pool-classes', kind: 'posint', value: 'S', description: "webgpu size-class pool: classes per power of two above 4 KiB (1, 2, 4, …, 64; core's SizeClassPoolOptions.classSteps): more waste less of a request and share less", defaultText: '16' },
  { name: 'ab', kind: Object.keys(AB_SWITCHES), value: 'SWITCH', description: "an interleaved A/B: every configuration twice, with SWITCH off and on (rows marked +SWITCH), both in each timed round, so that drifts of the device's clocks and load fall on both sides alike. narrow-tiles: core's narrow matmul tiles (CLIPWISE_MATMUL_NARROW), not with --matmul-tuning on; matmul-tuning: the tiles are tuned first, then the heuristic's plans (off) against the tuned ones (on); ghost-tiles: the ghost-norm kernel's 40-row Gram tiles where they pad T less (CLIPWISE_GHOST_FITTED_TILES); layer-norm-clip: a layer norm's clip factors formed in the launch that sums it (CLIPWISE_LAYER_NORM_CLIP); ghost-split-k: the ghost norm's K split over workgroups, a second launch summing the chunks (CLIPWISE_GHOST_SPLIT_K); ghost-matmul: ghost norms by two Gram matmuls and a per-sample dot instead of the fused kernel (on: --ghost-kernel matmul's path), not with --ghost-kernel; ghost-tiles-64: the ghost kernels on 64-row Gram tiles (8x8 blocks a thread) with the 16x2 work split and the K split, not with --ghost-split; guarded-update: the optimizer's update enqueued before the release's read, guarded on the device (the default; off: the release waits for the losses and norms first); parallel-clip-factors: a layer norm's clipped row sums (layer-wise and param-wise) form their clip factors with all their threads (the default; off: a thread a sample reads its row from global memory); staged-clip-prologue: the clipped product's prologue (layer-wise and param-wise) stages the ghost partials with every thread first (off, the default: each sample's thread reads its row from global memory); variant-tuning: the tiles are tuned first, the private steps' scaled products also as they run (their K scaling or clip prologue), then those products on their shapes' plain tuned plans (off) against their own (on, the default; CLIPWISE_MATMUL_VARIANT_TUNING); scale-narrow: a clipped product whose K-scaled operand is far wider than the other (GPT-2's LM head) scales the narrow one in a multiply of its own and runs plain (on, the default; CLIPWISE_SCALE_NARROW; off: the product scales the wide one as it stages it); gathered-row-closes: the layer norms' groups (layer-wise and param-wise) clipped together, as many a launch as the device binds (CLIPWISE_GATHERED_ROW_CLOSES; off, the default: a launch at each group's close)" },
  { name: 'budget-mib', kind: 'pos', value: 'N', unit: 'MiB', description: 'instead of timing: the largest batch per configuration whose step (weights and optimizer state included) fits N MiB, by the analytic model, checked by one measured step at that batch (unless --budget-check off); on webgpu also no larger than the batch whose largest tensor the device binds (GPT-2\'s logits excepted: the model splits them into spans of positions)' },
  { name: 'budget-check', kind: ['on', 'off'], defaultText: 'on', description: 'with --budget-mib: off skips the measured step at each found batch and prints the prediction alone (to size a run for a bigger device than this one); the prediction traces this backend\'s step, so plan a webgpu run on webgpu (a software adapter will do): wasm predicted GPT-2 s53m at 1.9× the H100\'s measured peak' },
];

/** `clipwise bench`: the shape flags plus `--groupings`, `--json FILE`, `--kernels N`, `--gpu-passes on|off`, `--fused on|off`, `--uploads queue|staging`, `--dispatch lean|tfjs`, `--submit-every N`, `--pool size-class|exact`, `--pool-classes S`, `--ghost-kernel fused|matmul`, `--compact-records on|off`, `--ghost-batching on|off`, `--clip-in-product on|off`, `--paired-bias-clip on|off`, `--ghost-split BKxKG`, `--matmul-tuning on|off`, `--ab SWITCH`. */
export const BENCH_COMMAND: CommandSpec = {
  name: 'bench',
  summary: 'step time and peak memory of the non-private step and of private steps per grouping, with the prediction',
  description:
    'Step time and peak memory of the non-private step and of private steps per grouping (random init), with the ' +
    'analytic prediction; ratios to non-private. Prints a markdown table; --json FILE writes the rows.',
  flags: BENCH_FLAGS,
  examples: [
    'clipwise bench --backend wasm --model gpt2-tiny --batch-size 16 --seq-len 64 --reps 5 --json bench.json',
    'clipwise bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --groupings all-layer --kernels 30',
    'clipwise bench --backend webgpu --model gpt2 --batch-size 16 --seq-len 128 --groupings all-layer,layer-wise --gpu-passes on',
    'clipwise bench --backend webgpu --model gpt2 --seq-len 1024 --groupings all-layer,layer-wise --budget-mib 24000',
    'clipwise bench --backend wasm --model gpt2-tiny --trainable all,bias,lora:16 --groupings inference,all-layer',
    'clipwise bench --backend webgpu --model vit-base-16 --batch-size 32 --vit-qkv packed --groupings all-layer --reps 9 --ab narrow-tiles',
  ],
  async run(values, io) {
    await runBenchCommand(values, io.log);
    return 0;
  },
};

/** Checks `clipwise bench`'s flags (raw values by name) and runs it. Bad input throws UsageError (exit status 2). */
async function runBenchCommand(values: Record<string, unknown>, log: (s: string) => void): Promise<BenchRow[] | MaxBatchRow[]> {
  const flags = resolveFlags(BENCH_FLAGS, values);
  const groupings = flags['groupings'] === undefined ? DEFAULT_BENCH_GROUPINGS : splitGroupings(flags['groupings'] as string);
  const trainable = (flags['trainable'] as string).split(',').map((m) => m.trim()).filter(Boolean);
  if (flags['budget-mib'] !== undefined) {
    if (trainable.join(',') !== 'all') throw new UsageError(`--trainable ${flags['trainable']} applies to timed benches; --budget-mib sizes full fine-tuning only (drop one of them)`);
    if (groupings.includes('inference')) throw new UsageError("--groupings inference applies to timed benches, not to --budget-mib (which sizes training steps)");
    if (flags['ab'] !== undefined) throw new UsageError(`--ab ${flags['ab']} applies to timed benches, not to --budget-mib (drop one of them)`);
    const s = shapeSettings(flags);
    return runMaxBatch({ ...s, groupings: [...new Set(['non-private', ...groupings])], budgetMib: flags['budget-mib'] as number, measure: flags['budget-check'] !== 'off', log });
  }
  if (flags['budget-check'] !== undefined) throw new UsageError('--budget-check applies to --budget-mib (the largest batch within a budget), not to timed benches');
  return runBench({
    ...shapeSettings(flags),
    groupings,
    trainable,
    json: flags['json'] as string | undefined,
    kernels: flags['kernels'] as number,
    gpuPasses: flags['gpu-passes'] === 'on',
    fused: flags['fused'] !== 'off',
    uploads: flags['uploads'] as 'queue' | 'staging' | undefined,
    dispatch: flags['dispatch'] as 'lean' | 'tfjs' | undefined,
    submitEvery: flags['submit-every'] as number | undefined,
    pool: flags['pool'] as 'size-class' | 'exact' | undefined,
    poolClasses: poolClasses(flags['pool-classes'] as number | undefined),
    ghostKernel: flags['ghost-kernel'] as 'fused' | 'matmul' | undefined,
    compactRecords: flags['compact-records'] !== 'off',
    matmulTuning: flags['matmul-tuning'] === undefined ? undefined : flags['matmul-tuning'] === 'on',
    ghostBatching: flags['ghost-batching'] !== 'off',
    clipInProduct: flags['clip-in-product'] !== 'off',
    pairedBiasClip: flags['paired-bias-clip'] !== 'off',
    ghostSplit: ghostSplit(flags['ghost-split'] as string | undefined),
    ab: abSwitch(flags['ab'] as AbSwitch | undefined, flags),
    log,
  });
}

/** A/B switches that set a bench flag's setting themselves on both sides: the flag, and what the switch sets. */
const AB_SETS: Partial<Record<AbSwitch, { flag: string; what: string }>> = {
  'ghost-matmul': { flag: 'ghost-kernel', what: 'the ghost kernel (fused or Gram matmuls)' },
  'ghost-tiles-64': { flag: 'ghost-split', what: "the ghost kernel's work split (16x2 on its on side)" },
};

/**
 * `--ab SWITCH`: refused beside a flag it sets itself (`AB_SETS`); narrow-tiles and the other kernel
 * switches beside `--matmul-tuning on` (tuned shapes ignore them, so both sides would run alike);
 * matmul-tuning and variant-tuning (which tune first) beside `--matmul-tuning off`.
 */
function abSwitch(value: AbSwitch | undefined, flags: Record<string, unknown>): AbSwitch | undefined {
  const tuning = flags['matmul-tuning'] as string | undefined;
  const sets = value && AB_SETS[value];
  if (sets && flags[sets.flag] !== undefined) {
    throw new UsageError(`--ab ${value} sets ${sets.what} itself; drop --${sets.flag} ${String(flags[sets.flag])}`);
  }
  if (abTunesFirst(value)) {
    if (tuning === 'off') throw new UsageError(`--ab ${value} tunes the tiles first and times ${value === 'matmul-tuning' ? "the tuned plans against the heuristic's" : "the scaled products' own tuned plans against their shapes' plain ones"}; drop --matmul-tuning off`);
  } else if (value !== undefined && tuning === 'on') {
    throw new UsageError(`--ab ${value} cannot run with --matmul-tuning on: tuned shapes ignore the switch; drop one of them`);
  }
  return value;
}

/** `--pool-classes S`: a power of two from 1 to 64, or undefined for the default. */
function poolClasses(value: number | undefined): number | undefined {
  if (value !== undefined && !isPoolClassSteps(value)) throw new UsageError(`--pool-classes must be a power of two from 1 to 64, got ${value}`);
  return value;
}

/**
 * `--ghost-split BKxKG`: core's `GhostKernelShape`, or undefined for the default (also parsed by the
 * bench scripts, e.g. `bench/enqueue-profile.ts`).
 */
export function ghostSplit(value: string | undefined): GhostKernelShape | undefined {
  if (value === undefined) return undefined;
  const m = /^([0-9]+)x([0-9]+)$/.exec(value);
  const shape = m ? { bk: Number(m[1]), kg: Number(m[2]) } : null;
  if (!shape || !isGhostKernelShape(shape)) throw new UsageError(`--ghost-split must be BKxKG with BK 8, 16 or 32 and KG 1, 2, 4 or 8 (not 32x8), got '${value}'`);
  return shape;
}

/**
 * Splits a `--groupings` list. A non-uniform spec has commas of its own (`non-uniform:h.4,h.8`): a
 * piece with a '.' and no ':' is a further boundary of the non-uniform spec before it. ';' also separates.
 */
export function splitGroupings(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(';')) {
    for (const piece of part.split(',').map((p) => p.trim()).filter(Boolean)) {
      const prev = out[out.length - 1];
      if (prev?.startsWith('non-uniform:') && piece.includes('.') && !piece.includes(':')) out[out.length - 1] = `${prev},${piece}`;
      else out.push(piece);
    }
  }
  return out;
}
