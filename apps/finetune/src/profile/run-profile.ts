import * as tf from '@tensorflow/tfjs-core';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setupBackend } from '@clipwise/core';
import { layerCosts, measureStep, STEP_PHASES, type LayerCostRow, type StepMeasurement, type StepMemoryPrediction, type StepPhase } from '@clipwise/memory';
import type { ShapeSettings } from '../commands/profile-args';
import { renderProfileHtml } from '../report/profile-report-html';
import { buildBenchModel, defaultNonUniform } from './bench-model';
import { heldAbove, predictStep, traceModel } from './predict';
import { guardedUpdateOn, makeBenchOptimizer, makeBenchStep } from './step-runner';
import { mib } from './mib';

export interface ProfileOptions extends ShapeSettings {
  /** Grouping spec ('non-uniform' alone: the model's default boundaries). */
  readonly grouping: string;
  /** Folder for profile.json and profile.html; none: tables only. */
  readonly out?: string;
  readonly log: (line: string) => void;
}

export interface PhaseRow {
  readonly phase: StepPhase;
  readonly measuredMs: number | null;
  readonly measuredPeakBytes: number | null;
  readonly predictedPeakBytes: number | null;
}

export interface ProfileResult {
  readonly model: string;
  readonly backend: string;
  readonly grouping: string;
  readonly batchSize: number;
  readonly seqLen: number;
  readonly layers: LayerCostRow[];
  readonly phases: PhaseRow[];
  readonly groups: { name: string; params: number; closedAfterRecords: number }[];
  readonly records: number;
  readonly stepMs: number;
  readonly nonPrivateStepMs: number;
  readonly peakBytes: number;
  readonly predictedPeakBytes: number;
  readonly nonPrivatePeakBytes: number;
  readonly heldBytes: number;
  readonly predictedHeldBytes: number;
  readonly predictedRecordsPeakBytes: number;
  /** Where the predicted peak falls and what holds it. */
  readonly predictedPeakAt: { phase: string; label: string; tape: number; grads: number; records: number; sums: number; transient: number };
}

const G = (f: number | undefined) => (f === undefined ? '-' : (f / 1e9).toFixed(3));

/**
 * `clipwise profile`: for one model shape and grouping, the analytic cost of every layer's
 * per-sample norms in both modes (and the mixed rule's choice), then one measured step per phase
 * next to the model's prediction, with the non-private step as reference. Writes profile.json and
 * an HTML report with the memory timeline (predicted, stacked by what holds the bytes; measured,
 * by phase) when `out` is given.
 *
 * @example
 * await runProfile({ ...settings, grouping: 'layer-wise', out: 'profile', log: console.log });
 */
export async function runProfile(o: ProfileOptions): Promise<ProfileResult> {
  await setupBackend(o.backend, { wasmThreads: o.threads });
  const backend = tf.getBackend();
  const model = buildBenchModel(o.model, o.modelConfig, o.seqLen, { vitQkv: o.vitQkv });
  try {
    const grouping = o.grouping === 'non-uniform' ? defaultNonUniform(model.params) : o.grouping;
    o.log(`clipwise profile: ${model.label}, ${model.paramCount.toLocaleString('en')} params, B=${o.batchSize}, grouping ${grouping}, backend ${backend}`);
    o.log('tracing the tape at batch 1 and 2 ...');
    const trace = await traceModel(model, o.batchSize);
    const layers = layerCosts(trace);
    const predictOpts = { backend, noiseMultiplier: o.noiseMultiplier, optimizer: o.optimizer, normMode: o.normMode, paramOrder: model.params.map((p) => p.name), guardedUpdate: guardedUpdateOn() };
    const runs: Array<{ m: StepMeasurement; p: StepMemoryPrediction; groups: ProfileResult['groups'] }> = [];
    const optimizer = makeBenchOptimizer(model, o.optimizer);
    try {
      for (const configuration of ['non-private', grouping]) {
        o.log(`measuring ${configuration}: ${o.warmup} warm-up, 1 profiled, ${o.reps} timed step(s) ...`);
        const step = makeBenchStep(model, { configuration, batchSize: o.batchSize, noiseMultiplier: o.noiseMultiplier, normMode: o.normMode }, optimizer);
        const m = await measureStep(step.run, { warmup: o.warmup, reps: o.reps });
        const p = predictStep(trace, step.grouping, predictOpts);
        const groups = (step.grouping?.groups ?? []).map((g, i) => ({ name: g.name, params: g.params.length, closedAfterRecords: p.closedAfterRecords[i]! }));
        runs.push({ m, p, groups });
      }
    } finally {
      optimizer?.dispose();
    }
    const [ref, run] = runs as [(typeof runs)[0], (typeof runs)[0]];
    const phases: PhaseRow[] = STEP_PHASES.map((phase) => ({
      phase,
      measuredMs: run.m.phaseMs[phase] ?? null,
      measuredPeakBytes: run.m.phasePeakBytes[phase] ?? null,
      predictedPeakBytes: run.p.phasePeakBytes[phase] ?? null,
    })).filter((r) => r.measuredMs !== null || r.measuredPeakBytes !== null || r.predictedPeakBytes !== null);
    const result: ProfileResult = {
      model: model.label,
      backend,
      grouping,
      batchSize: o.batchSize,
      seqLen: model.seqLen,
      layers,
      phases,
      groups: run.groups,
      records: trace.records.length,
      stepMs: run.m.stepMs,
      nonPrivateStepMs: ref.m.stepMs,
      peakBytes: run.m.peakBytes,
      predictedPeakBytes: run.p.peakBytes,
      nonPrivatePeakBytes: ref.m.peakBytes,
      heldBytes: heldAbove(run.m.arrivalBytes, ref.m.arrivalBytes),
      predictedHeldBytes: heldAbove(run.p.arrivalBytes, ref.p.arrivalBytes),
      predictedRecordsPeakBytes: run.p.recordsPeakBytes,
      predictedPeakAt: (({ phase, label, tape, grads, records, sums, transient }) => ({ phase, label, tape, grads, records, sums, transient }))(run.p.peakPoint),
    };
    for (const line of formatProfile(result)) o.log(line);
    if (o.out) {
      await mkdir(o.out, { recursive: true });
      const { points } = run.p;
      await writeFile(path.join(o.out, 'profile.json'), JSON.stringify({ ...result, measuredTimeline: run.m.timeline, predictedTimeline: points }) + '\n');
      await writeFile(path.join(o.out, 'profile.html'), renderProfileHtml(result, run.m.timeline, run.p.points, formatProfile(result)));
      o.log(`wrote ${path.join(o.out, 'profile.json')} and profile.html`);
    }
    return result;
  } finally {
    model.dispose();
  }
}

/** The profile's text tables (markdown). */
function formatProfile(r: ProfileResult): string[] {
  const lines = [
    '',
    `Per layer (backward order): per-sample norm cost from the kernels' cost reports at B=${r.batchSize}; mode = the mixed rule's choice (ghost when 2T² ≤ d·p)`,
    '| layer | param | T | d | p | mode | ghost GFLOP | ghost MiB | instantiate GFLOP | instantiate MiB | record MiB |',
    '| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.layers.map((l) =>
      `| ${l.layer} | ${l.role} | ${l.seq} | ${l.inFeatures} | ${l.outFeatures} | ${l.chosen} | ${G(l.ghost?.flops)} | ${mib(l.ghost?.bytes)} | ${G(l.instantiate.flops)} | ${mib(l.instantiate.bytes)} | ${mib(l.recordBytes)} |`,
    ),
    '',
    `Per phase (${r.grouping}; ms: median of the timed steps; peak: bytes above the weights and optimizer state)`,
    '| phase | measured ms | measured peak MiB | predicted peak MiB |',
    '| --- | ---: | ---: | ---: |',
    ...r.phases.map((p) => `| ${p.phase} | ${p.measuredMs === null ? '-' : p.measuredMs.toFixed(1)} | ${mib(p.measuredPeakBytes)} | ${mib(p.predictedPeakBytes)} |`),
    '',
    `Groups: ${r.groups.length}; closing positions (records delivered, of ${r.records}): ` +
      r.groups.slice(0, 12).map((g) => `${g.name}@${g.closedAfterRecords}`).join(' ') + (r.groups.length > 12 ? ` … (${r.groups.length - 12} more)` : ''),
    `step ${r.stepMs.toFixed(0)} ms (non-private ${r.nonPrivateStepMs.toFixed(0)} ms, ×${(r.stepMs / r.nonPrivateStepMs).toFixed(2)}); ` +
      `peak ${mib(r.peakBytes)} MiB (predicted ${mib(r.predictedPeakBytes)}; non-private ${mib(r.nonPrivatePeakBytes)})`,
    `predicted peak in ${r.predictedPeakAt.phase}, at ${r.predictedPeakAt.label}: forward tape ${mib(r.predictedPeakAt.tape)} + gradients ${mib(r.predictedPeakAt.grads)} + ` +
      `records ${mib(r.predictedPeakAt.records)} + sums ${mib(r.predictedPeakAt.sums)} + temporaries ${mib(r.predictedPeakAt.transient)} MiB`,
    `held above the non-private step during backward: ${mib(r.heldBytes)} MiB measured, ${mib(r.predictedHeldBytes)} MiB predicted ` +
      `(records waiting for their group: ${mib(r.predictedRecordsPeakBytes)} MiB at most)`,
  ];
  return lines;
}
