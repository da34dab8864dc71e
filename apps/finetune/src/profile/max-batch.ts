import * as tf from '@tensorflow/tfjs-core';
import { bindingLimitBytes, setupBackend, type BackendName } from '@clipwise/core';
import type { NormModeOption } from '@clipwise/ghost-norm';
import type { VitQkvLayout } from '@clipwise/models';
import { resolveGrouping, type Grouping } from '@clipwise/grouping';
import { measureStep, scaleTrace, type TapeTrace } from '@clipwise/memory';
import { buildBenchModel, defaultNonUniform } from './bench-model';
import { mib } from './mib';
import { predictStep, tracePair } from './predict';
import { makeBenchOptimizer, makeBenchStep, type BenchOptimizer } from './step-runner';

export interface MaxBatchOptions {
  readonly model: string;
  readonly modelConfig: Record<string, unknown>;
  readonly seqLen?: number;
  /** The device memory a step may use, weights and optimizer state included, in MiB. */
  readonly budgetMib: number;
  /** Configurations: 'non-private' and grouping specs. */
  readonly groupings: readonly string[];
  readonly backend: BackendName;
  /** wasm in Node: XNNPACK threads (unset: setupBackend's default, every core). */
  readonly threads?: number;
  readonly optimizer: BenchOptimizer;
  readonly noiseMultiplier: number;
  readonly normMode?: NormModeOption;
  /** ViT: how q, k, v are held (`VitOptions.qkv`, default 'separate'). */
  readonly vitQkv?: VitQkvLayout;
  /** Run one step at each found batch and report its measured memory beside the prediction (default true). */
  readonly measure?: boolean;
  /**
   * Largest tensor the backend can bind, in bytes (default: webgpu's `maxStorageBufferBindingSize`,
   * no limit elsewhere). A batch whose largest tensor exceeds it cannot run however much memory is
   * free, except GPT-2's logits (B·T × vocabulary), which the model splits into spans of positions
   * under the limit (given here, the model is built with it as its logits limit).
   */
  readonly bindingLimitBytes?: number;
  readonly log: (line: string) => void;
}

export interface MaxBatchRow {
  readonly configuration: string;
  /** The largest batch whose predicted step fits the budget (0: not even one sample). */
  readonly maxBatch: number;
  /** Predicted bytes of the step at maxBatch, resident weights and optimizer state included. */
  readonly predictedBytes: number;
  /** Measured likewise (engine peak above the resident bytes + resident), or null when not measured. */
  readonly measuredBytes: number | null;
  /** Predicted bytes one sample more: over the budget when `boundBy` is 'budget'. */
  readonly nextPredictedBytes: number;
  /** What stops the batch from growing: the memory budget, or the largest tensor the backend binds. */
  readonly boundBy: 'budget' | 'binding';
  /** Why the measured step failed (then `measuredBytes` is null). */
  readonly measureError?: string;
}

/** Optimizer state per parameter element: AdamW keeps two moments, the bench's SGD none. */
const STATE_PER_PARAM: Record<BenchOptimizer, number> = { adamw: 2, sgd: 0, none: 0 };
const LARGEST = 1 << 20;

/**
 * The largest batch per configuration whose step fits `budgetMib` of device memory, by the analytic
 * model: the tape traced at batch 1 and 2 and scaled in B (`scaleTrace`), each grouping's freeing
 * order replayed (`simulateStep`), plus the weights and optimizer state. Then, unless `measure` is
 * false, one real step at each found batch checks the prediction. Where records outgrow the forward
 * tape (long sequences, large batches), layer-wise clipping's earlier release shows here as a larger
 * batch than all-layer's.
 *
 * @example
 * const rows = await runMaxBatch({ model: 'gpt2-tiny', modelConfig: {}, seqLen: 64, budgetMib: 64, groupings: ['non-private', 'all-layer', 'layer-wise'],
 *   backend: 'cpu', optimizer: 'adamw', noiseMultiplier: 1, log: console.log });
 */
export async function runMaxBatch(o: MaxBatchOptions): Promise<MaxBatchRow[]> {
  if (!(o.budgetMib > 0) || !Number.isFinite(o.budgetMib)) throw new RangeError(`budget must be a positive number of MiB, got ${o.budgetMib}`);
  await setupBackend(o.backend, { wasmThreads: o.threads });
  const model = buildBenchModel(o.model, o.modelConfig, o.seqLen, { logitsLimitBytes: o.bindingLimitBytes, vitQkv: o.vitQkv });
  try {
    const budget = o.budgetMib * 2 ** 20;
    const resident = 4 * model.paramCount * (1 + STATE_PER_PARAM[o.optimizer]);
    o.log(`clipwise bench --budget-mib ${o.budgetMib}: ${model.label}, ${model.paramCount.toLocaleString('en')} params, weights + optimizer state ${mib(resident)} MiB, backend ${tf.getBackend()}`);
    const configs = [...new Set(o.groupings.map((g) => (g === 'non-uniform' ? defaultNonUniform(model.params) : g)))];
    // GPT-2's logits run in as many spans of positions as a batch needs (one otherwise): a batch's tape is
    // scaled from traces at batch 1 and 2 made with its span count, one pair per count met
    const spans = model.logitsSpans;
    const pairs = new Map<number, Promise<[TapeTrace, TapeTrace]>>();
    const pairFor = (count: number) => {
      let pair = pairs.get(count);
      if (!pair) pairs.set(count, (pair = tracePair(model, count)));
      return pair;
    };
    const traceAt = async (batch: number) => {
      const [one, two] = await pairFor(spans?.at(batch) ?? 1);
      return scaleTrace(one, two, batch);
    };
    // the tensors do not depend on the grouping: one bound for every configuration. GPT-2's logits do
    // not bind (the model splits them into spans under the limit); one position of them must
    const bindingLimit = o.bindingLimitBytes ?? bindingLimitBytes();
    const [one, two] = await pairFor(1);
    const binds = (batch: number) => {
      const whole = spans ? batch * spans.wholeBytesPerSample : -1;
      return Math.max(largestTensorBytes(scaleTrace(one, two, batch), (bytes) => bytes === whole), spans ? batch * spans.positionBytesPerSample : 0);
    };
    const byBinding = Number.isFinite(bindingLimit) ? await largestFitting(binds, bindingLimit) : Infinity;
    const rows: MaxBatchRow[] = [];
    const optimizer = o.measure === false ? null : makeBenchOptimizer(model, o.optimizer);
    try {
      for (const configuration of configs) {
        const grouping: Grouping | null = configuration === 'non-private' ? null : resolveGrouping(configuration, model.params, { clipNorm: 1 });
        const predictedAt = (trace: TapeTrace) =>
          resident + predictStep(trace, grouping, { backend: tf.getBackend(), noiseMultiplier: o.noiseMultiplier, optimizer: o.optimizer, normMode: o.normMode }).peakBytes;
        // past the binding bound a batch cannot run (nor, for GPT-2, be split): no trace there
        const predicted = async (batch: number) => (batch > byBinding ? Infinity : predictedAt(await traceAt(batch)));
        const byBudget = await largestFitting(predicted, budget);
        const maxBatch = Math.min(byBudget, byBinding);
        let measuredBytes: number | null = null;
        let measureError: string | undefined;
        if (optimizer && maxBatch > 0) {
          try {
            const step = makeBenchStep(model, { configuration, batchSize: maxBatch, noiseMultiplier: o.noiseMultiplier, normMode: o.normMode }, optimizer);
            measuredBytes = resident + (await measureStep(step.run, { warmup: 1, reps: 0 })).peakBytes;
          } catch (e) {
            // the prediction still stands; say why the check could not run
            measureError = (e as Error).message.split('\n')[0]!.slice(0, 200);
          }
        }
        // one more sample, in the structure of maxBatch where it would pass the binding bound
        const next = maxBatch + 1 > byBinding ? predictedAt(scaleTrace(...(await pairFor(spans?.at(maxBatch) ?? 1)), maxBatch + 1)) : await predicted(maxBatch + 1);
        const row: MaxBatchRow = {
          configuration, maxBatch, predictedBytes: maxBatch > 0 ? await predicted(maxBatch) : resident, measuredBytes, nextPredictedBytes: next,
          // the budget stops the search at the binding bound too (no trace past it): binding where one more would fit it
          boundBy: maxBatch === byBinding && next <= budget ? 'binding' : 'budget', ...(measureError ? { measureError } : {}),
        };
        rows.push(row);
        o.log(`  ${configuration}: batch ${maxBatch} (predicted ${mib(row.predictedBytes)} MiB${measuredBytes === null ? '' : `, measured ${mib(measuredBytes)} MiB`}; batch ${maxBatch + 1}: ${mib(row.nextPredictedBytes)} MiB${row.boundBy === 'binding' ? `, over the ${mib(bindingLimit)} MiB binding limit` : ''})${measureError ? `; measured step failed: ${measureError}` : ''}`);
      }
    } finally {
      optimizer?.dispose();
    }
    o.log('');
    o.log(formatMaxBatchTable(rows, o.budgetMib));
    return rows;
  } finally {
    model.dispose();
  }
}

/** The largest B ≥ 0 with `bytes(B) ≤ budget`, for `bytes` increasing in B: doubling, then bisection. */
export async function largestFitting(bytes: (batch: number) => number | Promise<number>, budget: number): Promise<number> {
  if ((await bytes(1)) > budget) return 0;
  let lo = 1;
  let hi = 2;
  while (hi <= LARGEST && (await bytes(hi)) <= budget) {
    lo = hi;
    hi *= 2;
  }
  if (hi > LARGEST) return lo;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await bytes(mid)) <= budget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The largest tensor a traced step makes or keeps, in bytes (outputs and saved tensors), but those `skip` names by their bytes. */
export function largestTensorBytes(trace: TapeTrace, skip: (bytes: number) => boolean = () => false): number {
  let most = 0;
  for (const n of trace.nodes) for (const t of [...n.outputs, ...n.saved]) if (t.bytes > most && !skip(t.bytes)) most = t.bytes;
  return most;
}

function formatMaxBatchTable(rows: readonly MaxBatchRow[], budgetMib: number): string {
  return [
    `| configuration | largest batch within ${budgetMib} MiB | predicted MiB | measured MiB | predicted MiB at one more | bound by |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.configuration} | ${r.maxBatch} | ${mib(r.predictedBytes)} | ${r.measuredBytes === null ? '-' : mib(r.measuredBytes)} | ${mib(r.nextPredictedBytes)} | ${r.boundBy === 'binding' ? 'the largest tensor binding' : 'the budget'} |`),
  ].join('\n');
}
