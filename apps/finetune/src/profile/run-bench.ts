import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { autotuneMatmul, clearMatmulTuning, matmulVariantTuningEnabled, setMatmulVariantTuning, dawnRobustness, narrowTilesEnabled, setClipInProduct, setFittedGhostTiles, setMatmulTuningActive, setNarrowTiles, formatMatmulTuning, fusedKernelsEnabled, setFusedGhostNorm, setFusedKernels, setGhostKernelShape, setGhostTileRows, DEFAULT_GHOST_KERNEL_SHAPE, setGhostSplitK, DEFAULT_GHOST_SPLIT_TARGET, setParallelClipFactors, setStagedClipPrologue, setScaleNarrowOperand, scaleNarrowOperandEnabled, ghostSplitTarget, type GhostKernelShape, setupBackend, storageBindingsPerDispatch, trimGpuBufferPool, useLeanDispatch, useQueueWriteUploads, useSizeClassPool, type BackendName } from '@clipwise/core';
import { setDeferredGhostNorms, layerNormClipInSumsEnabled, setLayerNormClipInSums, setPairedBiasClip, setRecordCompaction, type NormModeOption } from '@clipwise/ghost-norm';
import type { VitQkvLayout } from '@clipwise/models';
import { gatheredRowClosesEnabled, setGatheredRowCloses } from '@clipwise/optim';
import { measureStep, median, medianTimes, timeStep, type BackendBuffers, type KernelSummary, type StepMeasurement, type StepPhase, type StepTime } from '@clipwise/memory';
import { buildBenchModel, defaultNonUniform } from './bench-model';
import { heldAbove, predictStep, traceModel } from './predict';
import { guardedUpdateOn, makeBenchOptimizer, makeBenchStep, setGuardedUpdate, type BenchOptimizer } from './step-runner';
import { kib, mib } from './mib';

export interface BenchOptions {
  readonly model: string;
  readonly modelConfig: Record<string, unknown>;
  readonly batchSize: number;
  /** GPT-2 only; default 64. */
  readonly seqLen?: number;
  readonly reps: number;
  readonly warmup: number;
  /** Configurations: 'non-private' and grouping specs; `non-uniform` alone picks the model's default boundaries. */
  readonly groupings: readonly string[];
  /**
   * Trainable modes, each benched with every configuration: 'all' (full fine-tuning), 'bias'
   * (DP-BiTFiT), 'last:K', 'lora:R'. Default ['all']. Ratios are to the first mode's non-private step.
   */
  readonly trainable?: readonly string[];
  readonly backend: BackendName;
  /** wasm in Node: XNNPACK threads (unset: setupBackend's default, every core). */
  readonly threads?: number;
  readonly optimizer: BenchOptimizer;
  readonly noiseMultiplier: number;
  readonly normMode?: NormModeOption;
  /** ViT: how q, k, v are held (`VitOptions.qkv`, default 'separate'). */
  readonly vitQkv?: VitQkvLayout;
  readonly json?: string;
  /** Print the N kernels with the most device time of each configuration's profiled step (0: none). */
  readonly kernels?: number;
  /** webgpu: time the timed steps' compute passes on the device's clock (memory's `timeGpuPasses`): `BenchRow.gpuBusyMs`, `gpuIdleMs`. */
  readonly gpuPasses?: boolean;
  /** Fused kernels on (default) or off: the "before" of a before/after comparison. */
  readonly fused?: boolean;
  /** webgpu uploads of CPU values: 'queue' (queue.writeBuffer, default) or TF.js's own 'staging' buffers. */
  readonly uploads?: 'queue' | 'staging';
  /** webgpu per-launch recording: 'lean' (core's `useLeanDispatch`, default) or TF.js's own 'tfjs'. */
  readonly dispatch?: 'lean' | 'tfjs';
  /** webgpu: dispatches per queue submit (TF.js's `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE`, default 15). */
  readonly submitEvery?: number;
  /** webgpu buffer pool: core's 'size-class' pool (default) or TF.js's own 'exact'-size one. */
  readonly pool?: 'size-class' | 'exact';
  /** Size classes per power of two of the size-class pool (core's `SizeClassPoolOptions.classSteps`; default 16). */
  readonly poolClasses?: number;
  /** webgpu ghost norms: core's fused kernel (default) or the two Gram matmuls and a row reduction. */
  readonly ghostKernel?: 'fused' | 'matmul';
  /** Waiting records compacted (`setRecordCompaction`); default true. */
  readonly compactRecords?: boolean;
  /** Deferred ghost norms of waiting records, launched together at their group's close (ghost-norm's `setDeferredGhostNorms`; default true). */
  readonly ghostBatching?: boolean;
  /** A one-linear-layer group's clip factors inside its clipped sum's product (core's `setClipInProduct`; default true). */
  readonly clipInProduct?: boolean;
  /** Param-wise: a linear layer's weight and bias through one ghost launch and one product (ghost-norm's `setPairedBiasClip`; default true). */
  readonly pairedBiasClip?: boolean;
  /** The ghost-norm kernel's work split (core's `setGhostKernelShape`; default core's `DEFAULT_GHOST_KERNEL_SHAPE`). */
  readonly ghostSplit?: GhostKernelShape;
  /**
   * webgpu: tune the matmul tiles on the step's shapes before measuring (core's `autotuneMatmul`).
   * Default: CLIPWISE_MATMUL_TUNING (on/off), else on, but off under an A/B of another switch and on a
   * software adapter (lavapipe).
   */
  readonly matmulTuning?: boolean;
  /**
   * An interleaved A/B of a switch that a step reads as it runs (`AB_SWITCHES`): every configuration
   * is benched twice, with the switch off and on (the row's configuration gets ` +NAME`), and each timed
   * round runs both, so the two sides see the same drift of the device's clocks and load. Ratios stay
   * to the non-private step with the switch off.
   */
  readonly ab?: AbSwitch;
  readonly log: (line: string) => void;
}

/** Switches an A/B can flip between steps: each is read when a step plans its kernels, not when the step is built. */
export const AB_SWITCHES = {
  /** Core's narrow matmul tiles (`setNarrowTiles`): products with N ≤ 64 on the tall or medium tile. */
  'narrow-tiles': (on: boolean | null) => setNarrowTiles(on),
  /**
   * Core's tuned matmul plans (`setMatmulTuningActive`): the bench tunes first (as `matmulTuning`),
   * then the off side plans by the heuristic and the on side by the tuned table.
   */
  'matmul-tuning': (on: boolean | null) => setMatmulTuningActive(on),
  /** Core's fitted ghost-norm tiles (`setFittedGhostTiles`): 40-row Gram tiles where they pad T less (ViT's 197). */
  'ghost-tiles': (on: boolean | null) => setFittedGhostTiles(on),
  /** Ghost-norm's layer-norm clip in sums (`setLayerNormClipInSums`): a layer norm's factors formed in the launch that sums it. */
  'layer-norm-clip': (on: boolean | null) => setLayerNormClipInSums(on),
  /** Core's ghost norm with K split over workgroups (`setGhostSplitK`): on aims at 2048 workgroups a layer. */
  'ghost-split-k': (on: boolean | null) => setGhostSplitK(on === null ? null : on ? DEFAULT_GHOST_SPLIT_TARGET : 0),
  /**
   * Core's ghost norms by two Gram matmuls and a per-sample dot (`setFusedGhostNorm(false)`: the matmul
   * kernel's tiles and split-K on the whole Grams) instead of the fused kernel (the upper triangle's tiles
   * in registers, its partials summed into the clip factors). Off: the fused kernel, the default.
   */
  'ghost-matmul': (on: boolean | null) => setFusedGhostNorm(on !== true),
  /**
   * Core's ghost kernels on 64-row Gram tiles (`setGhostTileRows(64)`: an 8 × 8 block of both Grams a
   * thread) with the work split that stages them (16 of K × 2 groups) and the K split over about 2,048
   * workgroups a layer (3 tile pairs at T = 128 need it); off: the defaults (32-row tiles, 32x2, no split).
   */
  'ghost-tiles-64': (on: boolean | null) => {
    setGhostTileRows(null);
    setGhostKernelShape(on === true ? { bk: 16, kg: 2 } : null);
    if (on === true) setGhostTileRows(64);
    setGhostSplitK(on === true ? DEFAULT_GHOST_SPLIT_TARGET : null);
  },
  /**
   * The update enqueued before the release's read, guarded on the device (`releaseAndStep`'s order, the
   * default: the step runner's `setGuardedUpdate`); off: the release waits for the losses and norms, then
   * the update is enqueued (the order before it).
   */
  'guarded-update': (on: boolean | null) => setGuardedUpdate(on),
  /**
   * Core's clipped row sums (a layer norm's, layer-wise and param-wise) forming their clip factors with
   * all their threads (`setParallelClipFactors`, the default); off: a thread a sample walks its row in
   * global memory.
   */
  'parallel-clip-factors': (on: boolean | null) => setParallelClipFactors(on),
  /**
   * Core's clipped product's prologue (layer-wise, param-wise) staging the ghost partials with every
   * thread before each sample's thread sums its row (`setStagedClipPrologue`); off, the default: each
   * sample's thread reads its row from global memory.
   */
  'staged-clip-prologue': (on: boolean | null) => setStagedClipPrologue(on),
  /**
   * Core's variant tuning (`setMatmulVariantTuning`): the bench tunes first, the scaled products (clip
   * factors given or formed in the product) also as they run; then off plans them by their shape's plain
   * tuned choice and on (the default) by their own.
   */
  'variant-tuning': (on: boolean | null) => setMatmulVariantTuning(on),
  /**
   * Core's clipped products whose K-scaled operand is far wider than the other (GPT-2's LM head):
   * the narrow operand scaled in a multiply of its own and the product run plain
   * (`setScaleNarrowOperand`, the default); off: the product scales the wide one as it stages it.
   */
  'scale-narrow': (on: boolean | null) => setScaleNarrowOperand(on),
  /**
   * Optim's gathered row closes (`setGatheredRowCloses`; layer-wise, param-wise): the layer norms'
   * groups clipped together, as many a launch as the device binds; off, the default: a launch at each
   * group's close.
   */
  'gathered-row-closes': (on: boolean | null) => setGatheredRowCloses(on),
} as const;
export type AbSwitch = keyof typeof AB_SWITCHES;

/** A/Bs of the matmul tuning itself, which tune the tiles before the rounds whatever the tuning flag says. */
export const abTunesFirst = (ab: AbSwitch | undefined): boolean => ab === 'matmul-tuning' || ab === 'variant-tuning';

/**
 * `run` with a switch set to `on` while it runs and back to its default (`flip(null)`) after, also
 * when it throws: one side of an interleaved A/B.
 *
 * @example
 * const narrow = withSwitch(step.run, AB_SWITCHES['narrow-tiles'], true);
 * await timeStep(narrow); // planned with narrow tiles; the default is back afterwards
 */
export function withSwitch<A extends unknown[], T>(run: (...args: A) => Promise<T>, flip: (on: boolean | null) => void, on: boolean): (...args: A) => Promise<T> {
  return async (...args: A) => {
    flip(on);
    try {
      return await run(...args);
    } finally {
      flip(null);
    }
  };
}

/** `f()` with a switch set to `on` while it runs and back to its default after: `withSwitch` for work done at once (an A/B side's memory prediction). */
export function atSwitch<T>(flip: (on: boolean | null) => void, on: boolean, f: () => T): T {
  flip(on);
  try {
    return f();
  } finally {
    flip(null);
  }
}

/** One configuration's result. Ratios are to the non-private step measured in the same run. */
export interface BenchRow {
  /** The trainable mode ('all', 'bias', 'lora:16', ...). */
  readonly trainable: string;
  readonly grouping: string;
  readonly groups: number;
  readonly stepMs: number;
  readonly stepMsAll: readonly number[];
  /** Median host share of the timed steps: wall time not spent waiting for device reads (`StepTime.hostMs`). Near stepMs: launch-bound. */
  readonly hostMs: number;
  /** Median device time inside the step's compute passes, and between them (`gpuPasses`; NaN without). */
  readonly gpuBusyMs: number;
  readonly gpuIdleMs: number;
  /** Median device idle ms before the passes each phase began (the phase the host was in); empty without `gpuPasses`. */
  readonly gpuIdleByPhase: Partial<Record<string, number>>;
  readonly peakBytes: number;
  readonly stepRatio: number;
  readonly peakRatio: number;
  /** Peak the analytic model predicts (traced tape + kernel costs + the grouping's closing order). */
  readonly predictedPeakBytes: number;
  /** Where the model puts the peak: phase and what runs then. */
  readonly predictedPeakAt: string;
  /** Measured bytes above the non-private step at the same backward position, largest over positions. */
  readonly heldBytes: number;
  readonly predictedHeldBytes: number;
  readonly phaseMs: Partial<Record<StepPhase, number>>;
  readonly phasePeakBytes: Partial<Record<StepPhase, number>>;
  readonly predictedPhasePeakBytes: Partial<Record<StepPhase, number>>;
  readonly leakedBytes: number;
  /** The backend's own buffer statistics of the profiled step (webgpu: bytes in use and allocated, pool included; peaks with the size-class pool), else null. */
  readonly backendBuffers: BackendBuffers | null;
  /** Bytes of host arrays the profiled step uploaded (webgpu; null elsewhere): near 0 when the inputs are already tensors. */
  readonly hostWriteBytes: number | null;
  /** Kernel launches of the profiled step (reshapes, identities and scopes left out). */
  readonly launches: number;
  /** Device time of the profiled step's kernels in ms (webgpu timestamp queries; cpu/wasm: kernel wall time), or null. */
  readonly kernelMs: number | null;
  /** Achieved TFLOP/s of the step's matmul kernels (BatchMatMul, _FusedMatMul, clipped outer sums) by their device time, or null. */
  readonly matmulTflops: number | null;
  readonly model: string;
  readonly backend: string;
  readonly batchSize: number;
  readonly seqLen: number;
  readonly paramCount: number;
  /** Scalars that train in this mode. */
  readonly trainedCount: number;
}

export const DEFAULT_BENCH_GROUPINGS = ['non-private', 'all-layer', 'layer-wise', 'param-wise', 'uniform:2', 'uniform:4', 'uniform:8', 'non-uniform'];


/**
 * `clipwise bench`: the non-private step and the private step under each grouping, on one model
 * shape, batch and sequence length: warm-up and one profiled step each (peak bytes), then `reps`
 * timed rounds over all configurations (median per configuration), with the analytic prediction
 * beside each. Prints a markdown table; writes the
 * rows as JSON with `json`.
 *
 * @example
 * const rows = await runBench({ model: 'gpt2-tiny', modelConfig: {}, batchSize: 16, seqLen: 64, reps: 5, warmup: 1,
 *   groupings: DEFAULT_BENCH_GROUPINGS, backend: 'wasm', optimizer: 'sgd', noiseMultiplier: 1, log: console.log });
 */
export async function runBench(o: BenchOptions): Promise<BenchRow[]> {
  const choice = await setupBackend(o.backend, { wasmThreads: o.threads });
  const backend = tf.getBackend();
  // the before/after switches are process-wide: put them back when the bench ends
  const fusedBefore = fusedKernelsEnabled();
  setFusedKernels(o.fused ?? true);
  if (o.uploads === 'staging') useQueueWriteUploads(false);
  if (o.dispatch === 'tfjs') useLeanDispatch(false);
  const submitBefore = backend === 'webgpu' ? tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') : undefined;
  if (o.submitEvery !== undefined && backend === 'webgpu') tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', o.submitEvery);
  if (o.pool === 'exact') useSizeClassPool(false);
  // another class count: a new size-class pool (the buffers in use move over)
  const reclass = o.pool !== 'exact' && o.poolClasses !== undefined;
  if (reclass) {
    useSizeClassPool(false);
    useSizeClassPool(true, { classSteps: o.poolClasses });
  }
  setFusedGhostNorm(o.ghostKernel !== 'matmul');
  setRecordCompaction(o.compactRecords ?? true);
  setDeferredGhostNorms(o.ghostBatching ?? true);
  setClipInProduct(o.clipInProduct ?? true);
  setPairedBiasClip(o.pairedBiasClip ?? true);
  setGhostKernelShape(o.ghostSplit ?? null);
  const rows: BenchRow[] = [];
  let ref: Reference | null = null;
  try {
    const reason = [choice.reason, ...(choice.threads > 1 ? [`${choice.threads} threads`] : []), ...(choice.softwareAdapter ? [`software adapter ${choice.softwareAdapter}`] : [])].join(', ');
    for (const mode of o.trainable ?? ['all']) ref = await benchMode({ ...o, matmulTuning: o.matmulTuning ?? tuningDefault(o.ab, choice.softwareAdapter) }, mode, backend, reason, rows, ref);
    o.log('');
    o.log(formatBenchTable(rows));
    if (o.ab) {
      o.log('');
      o.log(formatAbTable(rows, o.ab));
    }
    if (o.json) {
      await writeFile(o.json, JSON.stringify(rows, null, 2) + '\n');
      o.log(`wrote ${o.json}`);
    }
    return rows;
  } finally {
    setFusedKernels(fusedBefore);
    if (o.uploads === 'staging') useQueueWriteUploads();
    if (o.dispatch === 'tfjs') useLeanDispatch();
    if (submitBefore !== undefined) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', submitBefore);
    if (o.pool === 'exact') useSizeClassPool();
    if (reclass) {
      useSizeClassPool(false);
      useSizeClassPool();
    }
    setFusedGhostNorm(true);
    setRecordCompaction(true);
    setDeferredGhostNorms(true);
    setClipInProduct(true);
    setPairedBiasClip(true);
    setGhostKernelShape(null);
    clearMatmulTuning();
  }
}

interface Reference {
  readonly time: number;
  readonly memory: StepMeasurement;
  readonly predicted: ReturnType<typeof predictStep>;
}

/**
 * Whether the bench tunes the matmul tiles when not told: CLIPWISE_MATMUL_TUNING=on/off, else on (the
 * tuned plans won 26 of 27 rounds of an interleaved A/B on ViT-B/16, 1.9-4.3 ms a step on an H100),
 * but off under an A/B of another switch, which tuned shapes would bypass, and on a software adapter,
 * whose timings say nothing about a GPU (and where timing every tile takes minutes).
 */
function tuningDefault(ab: AbSwitch | undefined, softwareAdapter: string | undefined): boolean {
  const v = process.env.CLIPWISE_MATMUL_TUNING;
  return v === 'on' || (v !== 'off' && ab === undefined && softwareAdapter === undefined);
}

/** Benches every configuration of one trainable mode into `rows`; returns the non-private reference of the ratios. */
async function benchMode(o: BenchOptions, mode: string, backend: string, reason: string, rows: BenchRow[], first: Reference | null): Promise<Reference> {
  const model = buildBenchModel(o.model, o.modelConfig, o.seqLen, { trainable: mode, vitQkv: o.vitQkv });
  let result: Reference | null = null;
  try {
    const tunesItself = abTunesFirst(o.ab);
    const tuning = backend === 'webgpu' && (tunesItself || o.matmulTuning === true);
    if (o.ab && backend !== 'webgpu') o.log(`note: ${o.ab} changes webgpu's kernels only; on ${backend} the A/B's two sides run the same kernels`);
    // tuned shapes bypass the heuristic plan that the A/B's switch changes: the two sides would run alike
    if (tuning && o.ab && !tunesItself) throw new RangeError(`an A/B of ${o.ab} cannot run with matmul tuning on (--matmul-tuning or CLIPWISE_MATMUL_TUNING): tuned shapes ignore the switch; turn tuning off`);
    const groupings = [...new Set(['non-private', ...o.groupings.map((g) => (g === 'non-uniform' ? defaultNonUniform(model.params) : g))])];
    // an A/B benches each configuration with the switch off, then on: [{ configuration, on }]
    const variants = groupings.flatMap((configuration) => (o.ab ? [false, true] : [null]).map((on) => ({ configuration, on })));
    const configs = variants.map((v) => (v.on ? `${v.configuration} +${o.ab}` : v.configuration));
    const split = o.ghostSplit ?? DEFAULT_GHOST_KERNEL_SHAPE;
    if (o.ab === 'ghost-tiles' && !(split.bk === 32 && split.kg <= 2)) o.log(`note: fitted ghost tiles need 32 of K a step and at most 2 K groups; with --ghost-split ${split.bk}x${split.kg} both sides run 32-row tiles`);
    o.log(`clipwise bench: ${model.label}, ${model.paramCount.toLocaleString('en')} params, trains ${mode} (${model.trainedCount.toLocaleString('en')}), B=${o.batchSize}, backend ${backend} (${reason}), optimizer ${o.optimizer}, σ=${o.noiseMultiplier}, fused kernels ${o.fused === false ? 'off' : 'on'}, records ${o.compactRecords === false ? 'full' : 'compacted'}, ghost batching ${o.ghostBatching === false ? 'off' : 'on'}, clip in product ${o.clipInProduct === false ? 'off' : 'on'}, paired bias clip ${o.pairedBiasClip === false ? 'off' : 'on'}, ghost split ${split.bk}x${split.kg}${backend === 'webgpu' ? `, uploads ${o.uploads ?? 'queue'}, dispatch ${o.dispatch ?? 'lean'}, submit every ${tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')}, pool ${o.pool ?? 'size-class'}${o.pool !== 'exact' && o.poolClasses ? ` (${o.poolClasses} classes a power of two)` : ''}, ghost kernel ${o.ghostKernel ?? 'fused'}, robustness ${dawnRobustness() ? 'on' : 'off'}, storage bindings ${storageBindingsPerDispatch()} a dispatch, matmul tuning ${tuning ? `on (scaled products ${matmulVariantTuningEnabled() ? 'apart' : 'as plain'})` : 'off'}, narrow tiles ${narrowTilesEnabled() ? 'on' : 'off'}, layer-norm clip in sums ${layerNormClipInSumsEnabled() ? 'on' : 'off'}, ghost K split ${ghostSplitTarget() || 'off'}, clip scale on the narrow operand ${scaleNarrowOperandEnabled() ? 'on' : 'off'}, gathered row closes ${gatheredRowClosesEnabled() ? 'on' : 'off'}` : ''}${o.ab ? `; A/B of ${o.ab}: each configuration with it off, then on (+${o.ab}), in the same timed rounds` : ''}`);
    o.log('tracing the tape at batch 1 and 2 for the analytic model ...');
    const trace = await traceModel(model, o.batchSize);
    const predictOpts = { backend, noiseMultiplier: o.noiseMultiplier, optimizer: o.optimizer, normMode: o.normMode, paramOrder: model.params.map((p) => p.name), guardedUpdate: guardedUpdateOn() };
    const optimizer = makeBenchOptimizer(model, o.optimizer);
    try {
      const steps = variants.map(({ configuration, on }) => {
        const step = makeBenchStep(model, { configuration, batchSize: o.batchSize, noiseMultiplier: o.noiseMultiplier, normMode: o.normMode }, optimizer);
        return on === null || !o.ab ? step : { ...step, run: withSwitch(step.run, AB_SWITCHES[o.ab], on) };
      });
      if (tuning) {
        o.log('tuning matmul tiles on one step of each configuration ...');
        const t0 = performance.now();
        // one step of each configuration (an A/B's off side: the same products as its on side)
        const tuned = await autotuneMatmul(async () => {
          for (const [i, step] of steps.entries()) if (variants[i]!.on !== true) await timeStep(step.run);
        }, { variants: o.ab === 'variant-tuning' || matmulVariantTuningEnabled() });
        const changed = tuned.filter((r) => r.chosen.tile !== r.before.tile || r.chosen.splits !== r.before.splits);
        o.log(`    ${tuned.length} shapes timed in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${changed.length} run another tile than the heuristic's:`);
        o.log(formatMatmulTuning(changed));
      }
      const memory: StepMeasurement[] = [];
      for (const [i, step] of steps.entries()) {
        o.log(`[${i + 1}/${configs.length}] ${configs[i]}: ${o.warmup} warm-up step(s), 1 profiled step ...`);
        // each configuration's pool starts empty (what a training run of it alone would hold)
        trimGpuBufferPool(0);
        const m = await measureStep(step.run, { warmup: o.warmup, reps: 0 });
        memory.push(m);
        const buffers = m.backendBuffers ? `; device buffers ${formatBuffers(m.backendBuffers)}` : '';
        const uploads = m.hostWriteBytes === null ? '' : `; ${kib(m.hostWriteBytes)} KiB uploaded from the host`;
        o.log(`    peak ${mib(m.peakBytes)} MiB${buffers}${uploads}${m.leakedBytes !== 0 ? ` (warning: ${m.leakedBytes} bytes left after the step)` : ''}`);
        if (o.kernels && m.kernels) o.log(formatKernelTable(m.kernels, o.kernels));
      }
      // timed steps round-robin over the configurations, so that load drifts hit all of them alike
      const times: StepTime[][] = steps.map(() => []);
      for (let r = 0; r < o.reps; r++) {
        for (const [i, step] of steps.entries()) times[i]!.push(await timeStep(step.run, { gpuPasses: o.gpuPasses }));
        o.log(`timed round ${r + 1}/${o.reps}: ${times.map((t) => t[r]!.stepMs.toFixed(0)).join(' ')} ms`);
      }
      // the reference is the non-private step as configured (with an A/B: its switch off)
      const own: Reference = { time: medianTimes(times[0]!).stepMs, memory: memory[0]!, predicted: predictStep(trace, null, predictOpts) };
      // ratios to the first mode's non-private step (full fine-tuning when 'all' comes first); held bytes to this mode's own
      const base = first ?? own;
      result = base;
      steps.forEach((step, i) => {
        const m = memory[i]!;
        const { stepMs, hostMs, phaseMs, gpuBusyMs, gpuIdleMs, gpuIdleByPhase } = medianTimes(times[i]!);
        const idle = Object.entries(gpuIdleByPhase).filter(([, ms]) => ms! >= 0.05);
        if (idle.length > 0) o.log(`${configs[i]}: device idle before the passes begun in ${idle.map(([phase, ms]) => `${phase} ${ms!.toFixed(2)}`).join(', ')} ms (medians)`);
        // an A/B side is predicted with its switch as it ran (the model reads some, e.g. the gathered row closes)
        const on = variants[i]!.on;
        const predict = () => predictStep(trace, step.grouping, predictOpts);
        const p = o.ab && on !== null ? atSwitch(AB_SWITCHES[o.ab], on, predict) : predict();
        // the forward pass alone has no backward to predict or compare with
        const inference = variants[i]!.configuration === 'inference';
        rows.push({
          trainable: mode,
          grouping: configs[i]!,
          groups: step.grouping?.groups.length ?? 0,
          stepMs,
          stepMsAll: times[i]!.map((t) => t.stepMs),
          hostMs,
          gpuBusyMs,
          gpuIdleMs,
          gpuIdleByPhase,
          peakBytes: m.peakBytes,
          stepRatio: stepMs / base.time,
          peakRatio: m.peakBytes / base.memory.peakBytes,
          predictedPeakBytes: inference ? NaN : p.peakBytes,
          predictedPeakAt: `${p.peakPoint.phase}: ${p.peakPoint.label}`,
          heldBytes: inference ? NaN : heldAbove(m.arrivalBytes, own.memory.arrivalBytes),
          predictedHeldBytes: inference ? NaN : heldAbove(p.arrivalBytes, own.predicted.arrivalBytes),
          phaseMs,
          phasePeakBytes: m.phasePeakBytes,
          predictedPhasePeakBytes: p.phasePeakBytes,
          leakedBytes: m.leakedBytes,
          backendBuffers: m.backendBuffers,
          hostWriteBytes: m.hostWriteBytes,
          launches: m.kernels?.launches ?? 0,
          kernelMs: m.kernels?.kernelMs ?? null,
          matmulTflops: m.kernels?.matmulMs ? m.kernels.matmulGflop / m.kernels.matmulMs : null,
          model: model.label,
          backend,
          batchSize: o.batchSize,
          seqLen: model.seqLen,
          paramCount: model.paramCount,
          trainedCount: model.trainedCount,
        });
      });
    } finally {
      optimizer?.dispose();
    }
    return result!;
  } finally {
    model.dispose();
  }
}

/** Device buffers of a profiled step: peak in use and pool peak where the size-class pool reports them, else now. */
function formatBuffers(b: BackendBuffers): string {
  return b.peakInUse === undefined
    ? `${mib(b.inUse)} MiB in use, ${mib(b.allocated)} MiB allocated after the step`
    : `peak ${mib(b.peakInUse)} MiB in use, pool peak ${mib(b.peakAllocated ?? b.allocated)} MiB`;
}

/** The bench's markdown table ('-' where a row has no value: the inference row's predictions); the GPU busy and idle columns where a row has them (`--gpu-passes on`). */
function formatBenchTable(rows: readonly BenchRow[]): string {
  const cell = (bytes: number) => (Number.isNaN(bytes) ? '-' : mib(bytes));
  const ms = (x: number, digits = 0) => (Number.isNaN(x) ? '-' : x.toFixed(digits));
  const passes = rows.some((r) => !Number.isNaN(r.gpuBusyMs));
  const head = [
    `| trainable | configuration | groups | step ms (median) | host ms |${passes ? ' GPU busy ms | GPU idle ms |' : ''} step / non-private | peak MiB | peak / non-private | predicted peak MiB | held above non-private MiB (measured / predicted) | device in use / pool peak MiB | uploaded KiB | launches | kernel ms | matmul TFLOP/s |`,
    `| --- | --- | ---: | ---: | ---: |${passes ? ' ---: | ---: |' : ''} ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  return [
    ...head,
    ...rows.map((r) =>
      `| ${r.trainable} | ${r.grouping} | ${r.groups || '-'} | ${r.stepMs.toFixed(0)} | ${ms(r.hostMs)} |${passes ? ` ${ms(r.gpuBusyMs, 1)} | ${ms(r.gpuIdleMs, 1)} |` : ''} ${r.stepRatio.toFixed(2)} | ${cell(r.peakBytes)} | ${r.peakRatio.toFixed(2)} | ${cell(r.predictedPeakBytes)} | ${cell(r.heldBytes)} / ${cell(r.predictedHeldBytes)} | ${r.backendBuffers ? `${r.backendBuffers.peakInUse === undefined ? '-' : cell(r.backendBuffers.peakInUse)} / ${cell(r.backendBuffers.peakAllocated ?? r.backendBuffers.allocated)}` : '-'} | ${r.hostWriteBytes === null ? '-' : kib(r.hostWriteBytes)} | ${r.launches} | ${r.kernelMs === null ? '-' : r.kernelMs.toFixed(1)} | ${r.matmulTflops === null ? '-' : r.matmulTflops.toFixed(1)} |`,
    ),
  ].join('\n');
}

/** One configuration of an interleaved A/B: its two sides' medians and the rounds paired. */
export interface AbPair {
  readonly trainable: string;
  readonly configuration: string;
  readonly offMs: number;
  readonly onMs: number;
  /** Median over rounds of (on − off) in the same round. */
  readonly medianDiffMs: number;
  /** The rounds' spread: the median absolute deviation of those differences. */
  readonly spreadMs: number;
  /** Rounds whose on side was faster than its off side. */
  readonly onFaster: number;
  readonly rounds: number;
}

/**
 * What a pair says of its switch: 'wins' where the median difference is negative, larger than the
 * rounds' spread, and the on side was faster in at least two thirds of the rounds; 'loses' where the
 * on side is over 1 ms slower (median); else 'no win'. The rule by which switches became defaults.
 *
 * @example
 * abVerdict({ medianDiffMs: -2.3, spreadMs: 0.5, onFaster: 8, rounds: 9 }); // 'wins'
 */
export function abVerdict(p: Pick<AbPair, 'medianDiffMs' | 'spreadMs' | 'onFaster' | 'rounds'>): 'wins' | 'loses' | 'no win' {
  if (p.medianDiffMs < 0 && -p.medianDiffMs > p.spreadMs && 3 * p.onFaster >= 2 * p.rounds) return 'wins';
  return p.medianDiffMs > 1 ? 'loses' : 'no win';
}

/**
 * Pairs each configuration's off and on rows of an A/B (`+SWITCH` rows) round by round: a drift of
 * the device during the bench moves both sides of a round alike, so the per-round difference is the
 * measurement, and how many rounds the on side won says how consistent it is.
 *
 * @example
 * abPairs(rows, 'narrow-tiles'); // [{ configuration: 'all-layer', offMs: 152, onMs: 148, medianDiffMs: -3.5, onFaster: 8, rounds: 9 }, …]
 */
export function abPairs(rows: readonly BenchRow[], ab: AbSwitch): AbPair[] {
  const suffix = ` +${ab}`;
  return rows.flatMap((on) => {
    if (!on.grouping.endsWith(suffix)) return [];
    const configuration = on.grouping.slice(0, -suffix.length);
    const off = rows.find((r) => r.trainable === on.trainable && r.grouping === configuration);
    if (!off) return [];
    const { medianDiff: medianDiffMs, spread: spreadMs, onLower: onFaster, rounds } = pairedRounds(off.stepMsAll, on.stepMsAll);
    return [{ trainable: on.trainable, configuration, offMs: off.stepMs, onMs: on.stepMs, medianDiffMs, spreadMs, onFaster, rounds }];
  });
}

/**
 * Two series measured in the same rounds (a switch off and on), compared round by round: the median of
 * the differences on − off, their spread (the median absolute deviation around it), and in how many
 * rounds on was lower. What moves a whole round (the machine's load) moves both sides alike.
 *
 * @example
 * pairedRounds([10, 12, 11], [9, 11.5, 11.2]); // { medianDiff: -0.5, spread: 0.5, onLower: 2, rounds: 3 }
 */
export function pairedRounds(off: readonly number[], on: readonly number[]): { medianDiff: number; spread: number; onLower: number; rounds: number } {
  const rounds = Math.min(off.length, on.length);
  const diffs = Array.from({ length: rounds }, (_, i) => on[i]! - off[i]!);
  const medianDiff = median(diffs);
  return { medianDiff, spread: median(diffs.map((d) => Math.abs(d - medianDiff))), onLower: diffs.filter((d) => d < 0).length, rounds };
}

function formatAbTable(rows: readonly BenchRow[], ab: AbSwitch): string {
  return [
    `| trainable | configuration | ${ab} off: step ms | on: step ms | on − off, median of rounds (ms) | rounds on faster | spread (ms) | verdict |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...abPairs(rows, ab).map((p) => `| ${p.trainable} | ${p.configuration} | ${p.offMs.toFixed(1)} | ${p.onMs.toFixed(1)} | ${p.medianDiffMs >= 0 ? '+' : ''}${p.medianDiffMs.toFixed(1)} | ${p.onFaster} of ${p.rounds} | ${p.spreadMs.toFixed(1)} | ${abVerdict(p)} |`),
  ].join('\n');
}

/** The `top` kernels of a profiled step by device time: where a step's GPU time and launches go. */
function formatKernelTable(k: KernelSummary, top: number): string {
  const total = k.kernelMs ?? 0;
  return [
    `    ${k.launches} launches (${k.entries} profile entries), kernel time ${k.kernelMs === null ? '-' : `${total.toFixed(1)} ms`}; top ${top}:`,
    '| kernel | launches | ms | share |',
    '| --- | ---: | ---: | ---: |',
    ...k.rows.slice(0, top).map((r) => `| ${r.kernel} | ${r.launches} | ${r.ms === null ? '-' : r.ms.toFixed(2)} | ${r.ms !== null && total > 0 ? `${((100 * r.ms) / total).toFixed(1)}%` : '-'} |`),
  ].join('\n');
}
