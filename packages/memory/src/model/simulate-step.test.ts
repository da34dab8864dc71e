import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveGrouping } from '@clipwise/grouping';
import { Gpt2Model } from '@clipwise/models';
import { NonPrivateGradients, Optimizer, PrivateGradients, adam, adamw, releaseAndStep, sgd } from '@clipwise/optim';
import { withKernelProbe } from '../measure/kernel-probe';
import { measureStep, type StepMeasurement } from '../measure/measure-step';
import { scaleTrace } from '../trace/scale-trace';
import { traceTape, type TapeTrace } from '../trace/tape-trace';
import { layerCosts } from './layer-costs';
import { simulateStep, type StepMemoryPrediction } from './simulate-step';

// A small GPT-2 (7k parameters, 2 blocks, 2 heads) at B = 8, T = 16: a shape where records held
// during backward raise the step's peak (the model says so; the test checks the engine agrees).
const B = 8;
const T = 16;
let model: Gpt2Model;
const ids = new Map<number, tf.Tensor2D>();
// made outside the step: a tensor first made inside the forward pass would be freed with its temporaries
const idsAt = (b: number) => {
  if (!ids.has(b)) ids.set(b, tf.randomUniform([b, T], 0, 17, 'int32', 3 + b) as tf.Tensor2D);
  return ids.get(b)!;
};
const lossAt = (b: number) => {
  const x = idsAt(b);
  return () => model.perSampleLoss(x);
};
let trace: TapeTrace;
const measured = new Map<string, StepMeasurement & { modes?: Record<string, string> }>();
const predicted = new Map<string, StepMemoryPrediction>();

async function measure(config: string): Promise<void> {
  const grouping = config === 'non-private' ? null : resolveGrouping(config, model.params, { clipNorm: 1 });
  // σ = 0: the release is then one division per parameter on every backend
  const source = grouping
    ? new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 0, expectedBatchSize: B, seed: 1 })
    : new NonPrivateGradients(model.params);
  let modes: Record<string, string> | undefined;
  const loss = lossAt(B);
  const m = await measureStep(
    async (probe) => {
      await withKernelProbe(probe, () => probe.around('backward', () => source.accumulate(() => probe.around('forward', loss))));
      const released = await probe.around('noise', () => source.release());
      if ('modes' in released) modes = released.modes as Record<string, string>;
      tf.dispose([...released.grads.values()]);
    },
    { warmup: 1, reps: 1 },
  );
  measured.set(config, { ...m, modes });
  predicted.set(config, simulateStep(trace, { groups: grouping ? grouping.groups : null, noiseTemporaries: 0 }));
}

const heldAbove = (a: readonly number[], ref: readonly number[]) => Math.max(...a.map((x, i) => x - ref[i]!));

beforeAll(async () => {
  model = new Gpt2Model({ vocab_size: 17, n_positions: T, n_embd: 16, n_layer: 2, n_head: 2 }, { seed: 1 });
  const one = await traceTape(lossAt(1));
  const two = await traceTape(lossAt(2));
  trace = scaleTrace(one, two, B);
  for (const config of ['non-private', 'all-layer', 'layer-wise']) await measure(config);
});

afterAll(() => {
  tf.dispose([...ids.values()]);
  model.dispose();
});

describe('scaleTrace', () => {
  it('reproduces a trace taken at the target batch exactly (every byte count is affine in B)', async () => {
    const progress: Array<[number, number]> = [];
    const direct = await traceTape(lossAt(B), { onProgress: (done, total) => progress.push([done, total]) });
    // progress: 0 after the forward pass, then rising through backward, ending at the tape's length
    const n = direct.nodes.length;
    expect(progress[0]).toEqual([0, n]);
    expect(progress.at(-1)).toEqual([n, n]);
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.every(([done], i) => i === 0 || done >= progress[i - 1]![0])).toBe(true);
    expect(trace.nodes.map((n) => n.saved.map((t) => t.bytes))).toEqual(direct.nodes.map((n) => n.saved.map((t) => t.bytes)));
    expect(trace.nodes.map((n) => n.outputs.map((t) => t.bytes))).toEqual(direct.nodes.map((n) => n.outputs.map((t) => t.bytes)));
    expect(trace.forwardBytes).toEqual(direct.forwardBytes);
    expect(trace.records.map((r) => [r.activationBytes, r.gradOutputBytes])).toEqual(direct.records.map((r) => [r.activationBytes, r.gradOutputBytes]));
  });

  it('rejects traces of one batch size or of different models, naming the problem', async () => {
    const one = await traceTape(lossAt(1));
    expect(() => scaleTrace(one, one, 8)).toThrow(/need different batch sizes, both are 1/);
    const other = new Gpt2Model({ vocab_size: 17, n_positions: T, n_embd: 16, n_layer: 1, n_head: 2 }, { seed: 1 });
    const x = idsAt(2);
    const small = await traceTape(() => other.perSampleLoss(x));
    other.dispose();
    expect(() => scaleTrace(one, small, 8)).toThrow(/differ in structure/);
  });
});

// The shape and the 10% bounds are calibrated on the cpu backend's kernels (webgpu runs fused WGSL
// kernels with other temporaries); `clipwise bench --backend webgpu` compares prediction and measurement there.
describe.skipIf(tf.getBackend() !== 'cpu')('simulateStep against the engine’s own byte count (CPU)', () => {
  it('predicts the bytes all-layer and layer-wise clipping hold above the non-private step within 5%', () => {
    const ref = measured.get('non-private')!.arrivalBytes;
    const refP = predicted.get('non-private')!.arrivalBytes;
    expect(ref).toHaveLength(trace.records.length);
    const all = heldAbove(measured.get('all-layer')!.arrivalBytes, ref);
    const layer = heldAbove(measured.get('layer-wise')!.arrivalBytes, ref);
    // all-layer keeps every record (a, dy) to the end of backward; layer-wise frees each at once
    // (only the LM head's record waits, for the tied embedding)
    expect(all).toBeGreaterThan(4 * layer);
    expect(heldAbove(predicted.get('all-layer')!.arrivalBytes, refP)).toBeCloseTo(all, -Math.log10(0.05 * all));
    expect(Math.abs(heldAbove(predicted.get('all-layer')!.arrivalBytes, refP) - all)).toBeLessThan(0.05 * all);
    expect(Math.abs(heldAbove(predicted.get('layer-wise')!.arrivalBytes, refP) - layer)).toBeLessThan(0.05 * all);
  });

  it('predicts the peak of the step and of every phase within 10%, and all-layer’s peak above layer-wise’s', () => {
    for (const config of ['non-private', 'all-layer', 'layer-wise']) {
      const m = measured.get(config)!;
      const p = predicted.get(config)!;
      expect(Math.abs(p.peakBytes - m.peakBytes) / m.peakBytes).toBeLessThan(0.1);
      expect(Object.keys(p.phasePeakBytes).sort()).toEqual(Object.keys(m.phasePeakBytes).sort());
      for (const [phase, bytes] of Object.entries(m.phasePeakBytes)) {
        expect(Math.abs(p.phasePeakBytes[phase as keyof typeof p.phasePeakBytes]! - bytes) / bytes, `${config} ${phase}`).toBeLessThan(0.1);
      }
    }
    // all-layer keeps every record to the end of backward, so its peak sits above layer-wise's by
    // the records it still holds at that moment: predicted, then measured within 20%
    const gap = (m: { peakBytes: number } | undefined, n: { peakBytes: number } | undefined) => m!.peakBytes - n!.peakBytes;
    const predictedGap = gap(predicted.get('all-layer'), predicted.get('layer-wise'));
    const measuredGap = gap(measured.get('all-layer'), measured.get('layer-wise'));
    expect(predictedGap / predicted.get('layer-wise')!.peakBytes).toBeGreaterThan(0.02);
    expect(measuredGap).toBeGreaterThan(0);
    expect(Math.abs(measuredGap - predictedGap)).toBeLessThan(0.2 * predictedGap);
  });

  it('predicts the update phase of the optimizers\' chain of ops (AdamW, Adam, SGD; guarded and not) within 10%', async () => {
    const makers = { adamw: () => adamw({ learningRate: 1e-3 }), adam: () => adam({ learningRate: 1e-3 }), sgd: () => sgd({ learningRate: 1e-3 }) } as const;
    for (const [update, make] of Object.entries(makers) as [keyof typeof makers, () => ReturnType<typeof adamw>][]) {
      for (const guarded of [false, true]) {
        const source = new NonPrivateGradients(model.params);
        const opt = new Optimizer(make(), model.params);
        const loss = lossAt(B);
        const m = await measureStep(
          async (probe) => {
            await withKernelProbe(probe, () => probe.around('backward', () => source.accumulate(() => probe.around('forward', loss))));
            if (guarded) {
              const { grads, guard, report } = probe.around('noise', () => source.releaseGuarded());
              probe.around('update', () => opt.step(grads, { guard }));
              tf.dispose([...grads.values(), guard]);
              await report;
            } else {
              const { grads } = await probe.around('noise', () => source.release());
              probe.around('update', () => opt.step(grads));
              tf.dispose([...grads.values()]);
            }
          },
          { warmup: 1, reps: 1 },
        );
        const p = simulateStep(trace, { groups: null, noiseTemporaries: 0, update, updateOrder: model.params.map((q) => q.name), guardedUpdate: guarded });
        const want = m.phasePeakBytes.update!;
        expect(Math.abs(p.phasePeakBytes.update! - want) / want, `${update}${guarded ? ', guarded' : ''}`).toBeLessThan(0.1);
        opt.dispose();
      }
    }
  });

  it('models compacted records: all-layer holds less with them (layer norms shrink; a linear layer whose weight trains is held as is), layer-wise (nothing waits) the same', () => {
    const all = resolveGrouping('all-layer', model.params, { clipNorm: 1 }).groups;
    const layer = resolveGrouping('layer-wise', model.params, { clipNorm: 1 }).groups;
    const held = (groups: typeof all, compactRecords: boolean) => simulateStep(trace, { groups, noiseTemporaries: 0, compactRecords }).recordsPeakBytes;
    // 5 layer norms, each x̂ and dy [B, T, d] replaced by γ's and β's [B, d]: 5 · 2 · (T − 1) · B · d · 4 bytes fewer
    // at the end of backward; the linear layers' records, whose dy their weights need, stay as they are
    expect(held(all, false) - held(all, true)).toBe(5 * 2 * (T - 1) * B * 16 * 4);
    expect(held(layer, true)).toBe(held(layer, false));
  });

  it('models gathered row closes: a layer-wise layer norm\'s rows wait for a launch\'s worth of groups', () => {
    const layer = resolveGrouping('layer-wise', model.params, { clipNorm: 1 }).groups;
    const run = (per: number | null) =>
      simulateStep(trace, { groups: layer, noiseTemporaries: 0, ...(per === null ? {} : { gatheredRowCloses: { groupsPerLaunch: () => per } }) });
    const rows = 2 * B * 16 * 4; // γ's and β's [B, d]
    // 5 layer norms, 3 a launch: after the second closes, two groups' rows wait beside what layer-wise holds anyway
    expect(run(3).recordsPeakBytes - run(null).recordsPeakBytes).toBe(2 * rows);
    expect(run(5).recordsPeakBytes - run(null).recordsPeakBytes).toBe(4 * rows);
    // every parameter's sum is made either way, and nothing is held once backward ends
    expect(run(3).points.at(-1)!.records).toBe(0);
    expect(run(3).points.at(-1)!.sums).toBe(run(null).points.at(-1)!.sums);
  });

  it('reports records held per grouping, and the closing order of each group', () => {
    const all = predicted.get('all-layer')!;
    const layer = predicted.get('layer-wise')!;
    expect(all.closedAfterRecords).toEqual([trace.records.length]);
    const lw = resolveGrouping('layer-wise', model.params, { clipNorm: 1 });
    // a layer-wise group closes at its own record, except the tied embedding/LM head group (last)
    lw.groups.forEach((g, i) => {
      const first = trace.records.findIndex((r) => r.params.some((p) => g.params.includes(p.name)));
      const last = trace.records.length - [...trace.records].reverse().findIndex((r) => r.params.some((p) => g.params.includes(p.name)));
      expect(layer.closedAfterRecords[i]).toBe(Math.max(first + 1, last));
    });
    expect(all.recordsPeakBytes).toBeGreaterThan(4 * layer.recordsPeakBytes);
  });

  it('left no tensor behind and leaked no bytes', () => {
    for (const m of measured.values()) expect(m.leakedBytes).toBe(0);
  });
});

describe('layerCosts', () => {
  it('chooses per layer the mode the private step used (mixed rule: ghost iff 2T² ≤ d·p)', () => {
    const rows = layerCosts(trace);
    const modes = measured.get('all-layer')!.modes!;
    const tied = new Set(trace.records.flatMap((r) => r.params.map((p) => p.name)).filter((n, i, a) => a.indexOf(n) !== i));
    const linear = rows.filter((r) => r.kind === 'linear' && r.role === 'weight' && !tied.has(r.param));
    expect(linear.length).toBe(8);
    for (const r of linear) {
      expect(r.chosen).toBe(2 * r.seq * r.seq <= r.inFeatures * r.outFeatures ? 'ghost' : 'instantiate');
      expect(modes[r.param]).toBe(r.chosen);
      // Li et al.: ghost needs 2·B·T² floats, instantiate B·d·p
      expect(r.ghost!.bytes).toBe(2 * B * T * T * 4);
      expect(r.instantiate.bytes).toBe(B * r.inFeatures * r.outFeatures * 4);
    }
  });
});
