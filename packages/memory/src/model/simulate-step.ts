import { getNormKernel, type NormModeOption } from '@clipwise/ghost-norm';
import { ClipwiseMemoryError } from '../errors';
import type { StepPhase } from '../phases';
import type { TapeTrace, TracedRecord } from '../trace/tape-trace';

const F32 = 4;

/** Where the bytes of a predicted moment are: stacked in the report's memory plot. */
export interface MemoryComponents {
  /** Tensors the forward pass saved for backward (and, in forward, everything it holds). */
  readonly tape: number;
  /** Gradients flowing through backward (each freed once consumed). */
  readonly grads: number;
  /** Layer records held by an open clipping group and by nothing else. */
  readonly records: number;
  /** Clipped (or plain) gradient sums, then the released gradients. */
  readonly sums: number;
  /** Kernel temporaries: Gram matrices or per-sample gradients, clipped-sum products, noise. */
  readonly transient: number;
}

/** One predicted moment of the step. */
export interface PredictedPoint extends MemoryComponents {
  readonly phase: StepPhase;
  /** Total bytes above the pre-step level. */
  readonly bytes: number;
}

/** How the step is run, as far as its memory goes. */
export interface StepMemoryOptions {
  /** Groups (parameter names) of the private step; null for the non-private baseline. */
  readonly groups: readonly { readonly name: string; readonly params: readonly string[] }[] | null;
  /** Norm mode of the kernels (default 'auto', mixed ghost clipping). */
  readonly normMode?: NormModeOption;
  /**
   * Parameter-sized temporaries the noise draw of one parameter adds next to its output (3 for the
   * tfjs-ops path on cpu/wasm: z, σz, sum + σz; 0 for the fused webgpu kernel). Default 3.
   */
  readonly noiseTemporaries?: number;
  /**
   * The optimizer update to model: 'sgd' (the optimizer forms every update, Σ params, then each new
   * value) or null (not modelled; Adam's state update is not). Default null.
   */
  readonly update?: 'sgd' | null;
}

/** The predicted memory of one step: its timeline and peaks. */
export interface StepMemoryPrediction {
  readonly points: readonly PredictedPoint[];
  readonly peakBytes: number;
  readonly phasePeakBytes: Partial<Record<StepPhase, number>>;
  /** Largest total of record bytes held only by open groups during backward. */
  readonly recordsPeakBytes: number;
  /** Per group: after how many records it closed (backward order). */
  readonly closedAfterRecords: readonly number[];
  /** Bytes when each layer record arrives (backward order), before its kernels run. */
  readonly arrivalBytes: readonly number[];
}

/**
 * Predicts the memory timeline of one step from its `TapeTrace`, by replaying Clipwise's freeing
 * backward (core's `backward`: each node's output gradients are freed once it has run, its saved
 * tensors right after) with the recorder of the step:
 * - non-private: each record is summed (Σ_i g_i) and freed on arrival;
 * - private: per-sample norms on arrival (the kernel's `cost().bytes` as a temporary), and the
 *   group-wise clipper's holding rule: a record stays until every group holding one of its
 *   parameters has closed (He et al. 2022): all-layer keeps all of them to the end of backward,
 *   layer-wise frees each at once (but a tied weight waits for its last use).
 * Then the release (noise on each sum, the normalisation) and, if given, the update.
 * Temporaries inside TF.js gradient functions are not modelled (the measured peak runs above).
 *
 * @example
 * const p = simulateStep(trace, { groups: grouping.groups });
 * console.log(p.peakBytes, p.recordsPeakBytes);
 */
export function simulateStep(trace: TapeTrace, options: StepMemoryOptions): StepMemoryPrediction {
  return new StepSimulation(trace, options).run();
}

class StepSimulation {
  private readonly bytes = new Map<number, number>();
  private readonly saved = new Map<number, number>();
  private readonly gradRefs = new Map<number, number>();
  private readonly recordRefs = new Map<number, number>();
  private readonly points: PredictedPoint[] = [];
  private sums = 0;
  private nextKey = -1;
  private recordsPeak = 0;
  private readonly arrivals: number[] = [];
  private readonly paramSize = new Map<string, number>();

  constructor(
    private readonly trace: TapeTrace,
    private readonly options: StepMemoryOptions,
  ) {
    for (const r of trace.records) for (const p of r.params) this.paramSize.set(p.name, p.size * F32);
  }

  run(): StepMemoryPrediction {
    const { trace } = this;
    for (const b of trace.forwardBytes) this.push('forward', { tape: b, grads: 0, records: 0, sums: 0, transient: 0 });
    for (const n of trace.nodes) for (const t of n.saved) this.hold(this.saved, t.key, t.bytes);
    const closed = this.backward();
    this.release();
    const phasePeakBytes: Partial<Record<StepPhase, number>> = {};
    for (const p of this.points) phasePeakBytes[p.phase] = Math.max(phasePeakBytes[p.phase] ?? 0, p.bytes);
    return {
      points: this.points,
      peakBytes: Math.max(...this.points.map((p) => p.bytes)),
      phasePeakBytes,
      recordsPeakBytes: this.recordsPeak,
      closedAfterRecords: closed,
      arrivalBytes: this.arrivals,
    };
  }

  private backward(): number[] {
    const { trace, options } = this;
    const groups = options.groups;
    const groupOf = new Map<string, number>();
    groups?.forEach((g, m) => g.params.forEach((p) => groupOf.set(p, m)));
    const usesLeft = new Map<string, number>();
    for (const r of trace.records) for (const p of r.params) usesLeft.set(p.name, (usesLeft.get(p.name) ?? 0) + 1);
    const openParams = (groups ?? []).map((g) => g.params.filter((p) => usesLeft.has(p)).length);
    for (const p of usesLeft.keys()) {
      if (groups && !groupOf.has(p)) throw new ClipwiseMemoryError(`simulateStep: parameter ${p} is in no group`);
    }
    const closedAfter = (groups ?? []).map(() => 0);
    const uses = new Map<string, Array<{ record: number; role: string }>>();
    const held = new Map<number, { left: number; keys: number[] }>();
    const summed = new Set<string>();
    const acc = new Map<number, number>();
    const last = trace.nodes[trace.nodes.length - 1]!;
    acc.set(last.outputs[0]!.tensorId, this.fresh(this.gradRefs, F32));
    let seen = 0;

    const sumInto = (name: string, temp: number, phase: StepPhase) => {
      const p = this.paramSize.get(name)!;
      this.push(phase, { transient: temp + p });
      if (!summed.has(name)) {
        summed.add(name);
        this.sums += p;
      }
    };
    const clipTemp = (r: TracedRecord, role: string) =>
      role === 'weight' && r.shape.attrs['layout'] === 'out_in' ? r.activationBytes : r.kind === 'layernorm' && role === 'weight' ? 2 * r.gradOutputBytes : r.gradOutputBytes;
    const releaseRecord = (i: number) => {
      const h = held.get(i)!;
      if (--h.left > 0) return;
      held.delete(i);
      for (const k of h.keys) this.drop(this.recordRefs, k);
    };

    for (let i = trace.nodes.length - 1; i >= 0; i--) {
      const node = trace.nodes[i]!;
      if (!node.onPath) continue;
      const dys = node.outputs.map((o) => acc.get(o.tensorId));
      node.outputs.forEach((o, j) => {
        // TF.js makes zeros for an output with no gradient, inside the backward's scope (freed at its end)
        if (dys[j] === undefined) this.fresh(this.gradRefs, o.bytes);
      });
      const dxs = node.inputs.map((x) => this.fresh(this.gradRefs, x.bytes));
      this.push('backward', {});
      if (node.record >= 0) {
        const r = trace.records[node.record]!;
        seen++;
        const keys: number[] = [];
        const actKey = r.activationKey ?? (r.activationBytes > 0 ? this.fresh(this.recordRefs, r.activationBytes) : null);
        if (actKey !== null) {
          if (r.activationKey !== null) this.hold(this.recordRefs, actKey, this.bytes.get(actKey) ?? 0);
          keys.push(actKey);
        }
        const dyKey = dys[0];
        if (dyKey !== undefined) {
          this.hold(this.recordRefs, dyKey, 0);
          keys.push(dyKey);
        }
        this.push('backward', {});
        this.arrivals.push(this.points[this.points.length - 1]!.bytes);
        if (groups === null) {
          held.set(node.record, { left: r.params.length, keys });
          for (const p of r.params) {
            sumInto(p.name, clipTemp(r, p.role), 'clipped-sums');
            releaseRecord(node.record);
          }
          if (r.params.length === 0) releaseRecord(node.record);
        } else {
          const cost = getNormKernel(r.kind).cost(r.shape);
          const mode = options.normMode ?? 'auto';
          const normTemp = Math.max(0, ...r.params.map((p) => {
            const c = cost[p.role];
            if (!c) return 0;
            const m = mode === 'auto' ? c.chosen : mode === 'ghost' && c.ghost ? 'ghost' : 'instantiate';
            return (m === 'ghost' ? c.ghost! : c.instantiate).bytes;
          }));
          this.push('norms', { transient: normTemp });
          held.set(node.record, { left: Math.max(1, r.params.length), keys });
          if (r.params.length === 0) releaseRecord(node.record);
          for (const p of r.params) {
            const list = uses.get(p.name) ?? [];
            list.push({ record: node.record, role: p.role });
            uses.set(p.name, list);
            const left = usesLeft.get(p.name)! - 1;
            usesLeft.set(p.name, left);
            if (left > 0) continue;
            const g = groupOf.get(p.name)!;
            if (--openParams[g]! > 0) continue;
            closedAfter[g] = seen;
            for (const name of groups[g]!.params) {
              for (const u of uses.get(name) ?? []) {
                sumInto(name, clipTemp(trace.records[u.record]!, u.role), 'clipped-sums');
                releaseRecord(u.record);
              }
              uses.delete(name);
            }
          }
        }
        this.recordsPeak = Math.max(this.recordsPeak, this.onlyRecords());
      }
      for (const o of node.outputs) {
        const k = acc.get(o.tensorId);
        if (k !== undefined) this.drop(this.gradRefs, k);
        acc.delete(o.tensorId);
      }
      for (const t of node.saved) this.drop(this.saved, t.key);
      node.inputs.forEach((x, j) => {
        const prev = acc.get(x.tensorId);
        if (prev === undefined) {
          acc.set(x.tensorId, dxs[j]!);
          return;
        }
        const sum = this.fresh(this.gradRefs, x.bytes);
        this.push('backward', {});
        this.drop(this.gradRefs, prev);
        this.drop(this.gradRefs, dxs[j]!);
        acc.set(x.tensorId, sum);
      });
      this.push('backward', {});
    }
    // the backward's scope ends: remaining gradients, zeros and the pruned nodes' saved tensors go
    for (const k of [...this.gradRefs.keys()]) this.gradRefs.delete(k);
    for (const k of [...this.saved.keys()]) this.saved.delete(k);
    if (held.size > 0 && groups !== null) {
      // groups whose parameters were all unused close at the end (nothing to sum)
      for (const i of [...held.keys()]) for (let n = held.get(i)!.left; n > 0; n--) releaseRecord(i);
    }
    this.push('backward', {});
    return closedAfter;
  }

  private release(): void {
    const noise = this.options.groups === null ? 0 : (this.options.noiseTemporaries ?? 3);
    for (const p of this.paramSize.values()) this.push('noise', { transient: (1 + noise) * p });
    if (this.options.update === 'sgd') {
      const total = [...this.paramSize.values()].reduce((a, b) => a + b, 0);
      for (const p of this.paramSize.values()) this.push('update', { transient: total + p });
    }
  }

  private fresh(refs: Map<number, number>, bytes: number): number {
    const k = this.nextKey--;
    this.bytes.set(k, bytes);
    refs.set(k, 1);
    return k;
  }

  private hold(refs: Map<number, number>, key: number, bytes: number): void {
    if (!this.bytes.has(key)) this.bytes.set(key, bytes);
    refs.set(key, (refs.get(key) ?? 0) + 1);
  }

  private drop(refs: Map<number, number>, key: number): void {
    const n = (refs.get(key) ?? 0) - 1;
    if (n > 0) refs.set(key, n);
    else refs.delete(key);
  }

  private onlyRecords(): number {
    let s = 0;
    for (const k of this.recordRefs.keys()) if (!this.saved.has(k) && !this.gradRefs.has(k)) s += this.bytes.get(k)!;
    return s;
  }

  private push(phase: StepPhase, extra: Partial<MemoryComponents>): void {
    let tape = 0;
    let grads = 0;
    for (const [k] of this.saved) tape += this.bytes.get(k)!;
    for (const [k] of this.gradRefs) if (!this.saved.has(k)) grads += this.bytes.get(k)!;
    const c: MemoryComponents = {
      tape: tape + (extra.tape ?? 0),
      grads: grads + (extra.grads ?? 0),
      records: this.onlyRecords() + (extra.records ?? 0),
      sums: this.sums + (extra.sums ?? 0),
      transient: extra.transient ?? 0,
    };
    this.points.push({ phase, ...c, bytes: c.tape + c.grads + c.records + c.sums + c.transient });
  }
}
