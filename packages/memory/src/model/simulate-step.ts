import { getNormKernel, recordCompactionEnabled, type NormModeOption } from '@clipwise/ghost-norm';
import { ClipwiseMemoryError } from '../errors';
import { phasePeaks } from '../measure/phase-probe';
import type { StepPhase } from '../phases';
import type { TapeTrace, TracedRecord } from '../trace/tape-trace';

const F32 = 4;

/** Where the bytes of a predicted moment are: stacked in the report's memory plot. */
export interface MemoryComponents {
  /** Tensors the forward pass saved for backward (and, in forward, everything it holds). */
  readonly tape: number;
  /** Gradients flowing through backward (each freed once consumed). */
  readonly grads: number;
  /** Layer records held by an open clipping group (their own tensor handles). */
  readonly records: number;
  /** Clipped (or plain) gradient sums, then the released gradients. */
  readonly sums: number;
  /** Kernel temporaries: Gram matrices or per-sample gradients, clipped-sum products, noise. */
  readonly transient: number;
}

/** One predicted moment of the step. */
export interface PredictedPoint extends MemoryComponents {
  readonly phase: StepPhase;
  /** What runs: the kernel whose gradient is computed, the layer whose record arrives, the parameter summed or updated. */
  readonly label: string;
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
   * Whether the release writes each sum in place (the webgpu backend's noise and scale kernels), so
   * that no output is made beside it; else each parameter's output is new (cpu/wasm). Default false.
   */
  readonly releaseInPlace?: boolean;
  /** Whether waiting records are compacted as the private step does (`setRecordCompaction`). Default: as set there. */
  readonly compactRecords?: boolean;
  /**
   * The optimizer update as the chain of ops runs it (cpu, wasm; webgpu with fused kernels off), a
   * tidy per parameter (optim's `mapTensors`): 'sgd' (every update, Σ params, then each new value);
   * 'adam' and 'adamw' (the new first and second moments and the updates, each parameter's temporaries
   * on top: 3, 4 and 5 of its size; AdamW's decay, 2; the learning rate, 1; then each new value). null:
   * nothing beside the held bytes (the fused kernels update in place on webgpu), or not modelled.
   * Default null.
   */
  readonly update?: 'sgd' | 'adam' | 'adamw' | null;
  /** Parameter names in the order the optimizer takes them (`params`' order); default: the records' forward order. */
  readonly updateOrder?: readonly string[];
  /**
   * Whether the chain's update is guarded (optim's `releaseAndStep`, as training and the bench step):
   * each new value is then selected against the old one (`where`, with its broadcast operands), one
   * parameter at a time. Default false.
   */
  readonly guardedUpdate?: boolean;
  /**
   * Optim's gathered row closes (`setGatheredRowCloses`), with the groups one launch clips given its
   * most rows a group (core's `groupsPerLaunch`): a closing layer norm's group holds its per-sample
   * rows (B × its parameters' sizes) until a launch's worth has gathered or backward ends, and its
   * sums are made then. Default: off (each group's sums at its close).
   */
  readonly gatheredRowCloses?: { readonly groupsPerLaunch: (rowsPerGroup: number) => number };
}

/** The predicted memory of one step: its timeline and peaks. */
export interface StepMemoryPrediction {
  readonly points: readonly PredictedPoint[];
  readonly peakBytes: number;
  /** The moment of the peak (first one, if several). */
  readonly peakPoint: PredictedPoint;
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
 * Bytes are counted as TF.js's engine counts them (every tensor handle by its size, views and
 * saved clones included). The temporaries inside each TF.js gradient function come from the
 * trace; those inside the norm and clipped-sum kernels from their cost reports (the Gram matrices
 * or per-sample gradients), and those of the clipped sums (c ⊙ dy or c ⊙ a) from the trace.
 *
 * @example
 * const p = simulateStep(trace, { groups: grouping.groups });
 * console.log(p.peakBytes, p.recordsPeakBytes);
 */
export function simulateStep(trace: TapeTrace, options: StepMemoryOptions): StepMemoryPrediction {
  return new StepSimulation(trace, options).run();
}

class StepSimulation {
  /** Saved tensors of the nodes not yet run (TF.js counts each saved clone by its size). */
  private tape = 0;
  /** Gradient tensors alive, by handle. */
  private readonly grads = new Map<number, number>();
  /** Bytes of the records still held, by record index. */
  private readonly held = new Map<number, { left: number; bytes: number }>();
  private readonly points: PredictedPoint[] = [];
  private readonly arrivals: number[] = [];
  private sums = 0;
  private nextHandle = 0;
  private recordsPeak = 0;
  private label = '';
  private readonly paramSize = new Map<string, number>();

  constructor(
    private readonly trace: TapeTrace,
    private readonly options: StepMemoryOptions,
  ) {
    for (const r of trace.records) for (const p of r.params) this.paramSize.set(p.name, p.size * F32);
  }

  run(): StepMemoryPrediction {
    const { trace } = this;
    this.label = 'forward kernel';
    for (const b of trace.forwardBytes) this.push('forward', { tape: b });
    // summing the per-sample losses runs before the forward's temporaries are freed
    this.label = 'sum of the per-sample losses';
    for (const b of trace.lossBytes) this.push('backward', { tape: b });
    for (const n of trace.nodes) for (const t of n.saved) this.tape += t.bytes;
    const closed = this.backward();
    this.release();
    const phasePeakBytes = phasePeaks(this.points);
    const peakBytes = Math.max(...this.points.map((p) => p.bytes));
    return {
      points: this.points,
      peakBytes,
      peakPoint: this.points.find((p) => p.bytes === peakBytes)!,
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
    const usesOf = new Map(usesLeft);
    for (const p of usesLeft.keys()) {
      if (groups && !groupOf.has(p)) throw new ClipwiseMemoryError(`simulateStep: parameter ${p} is in no group`);
    }
    const openParams = (groups ?? []).map((g) => g.params.filter((p) => usesLeft.has(p)).length);
    const closedAfter = (groups ?? []).map(() => 0);
    const uses = new Map<string, Array<{ record: number; role: string }>>();
    const summed = new Set<string>();
    const acc = new Map<number, number>();
    const last = trace.nodes[trace.nodes.length - 1]!;
    acc.set(last.outputs[0]!.tensorId, this.grad(F32));
    let seen = 0;

    const sumInto = (name: string, temp: number, intoTemp?: number) => {
      const p = this.paramSize.get(name)!;
      this.label = `clipped sum of ${name}`;
      // a second contribution (a tied weight's other use) is added to the first: by a kernel that adds
      // onto the running sum (traced: in place on webgpu), what it held above it; else its sum, then the
      // new total beside the old one, once the sum's temporaries are gone
      this.push('clipped-sums', { transient: summed.has(name) ? (intoTemp ?? Math.max(temp + p, 2 * p)) : temp + p });
      if (!summed.has(name)) {
        summed.add(name);
        this.sums += p;
      }
    };
    // Book-Keeping sums scale dy (or a, for a weight stored [out, in]) by the clip factors first (traced)
    const clipTemp = (r: TracedRecord, role: string) => r.clipTempBytes[role] ?? r.gradOutputBytes;
    const releaseRecord = (i: number) => {
      const h = this.held.get(i)!;
      if (--h.left <= 0) this.held.delete(i);
    };
    // gathered row closes: closed layer-norm groups whose rows wait (held under key -1 - g), and their launches
    const gathering = this.options.gatheredRowCloses;
    const gathered: { g: number; names: string[] }[] = [];
    const clipGathered = (all: boolean) => {
      const per = gathering!.groupsPerLaunch(Math.max(0, ...gathered.map((x) => x.names.length)));
      while (gathered.length >= per || (all && gathered.length > 0)) {
        const launch = gathered.splice(0, per);
        // each sum is a new tensor of its parameter's size; the rows go once all of the launch's are made
        for (const { names } of launch) for (const name of names) sumInto(name, 0);
        for (const { g } of launch) this.held.delete(-1 - g);
      }
    };
    /** The group's members, when it is one layer norm record's parameters, each used once (gathered); else null. */
    const gatherable = (g: number) => {
      if (!gathering) return null;
      const members = groups![g]!.params.flatMap((name) => (uses.get(name) ?? []).map((u) => ({ name, u })));
      const records = new Set(members.map((m) => m.u.record));
      if (members.length === 0 || members.length > 2 || records.size !== 1) return null;
      const r = trace.records[members[0]!.u.record]!;
      return r.kind === 'layernorm' && members.every((m) => usesOf.get(m.name) === 1) ? { r, members } : null;
    };

    for (let i = trace.nodes.length - 1; i >= 0; i--) {
      const node = trace.nodes[i]!;
      if (!node.onPath) continue;
      this.label = `gradient of ${node.kernel}${seen < trace.records.length ? ` (next record: ${trace.records[seen]!.layer})` : ''}`;
      const dys = node.outputs.map((o) => acc.get(o.tensorId));
      // TF.js makes zeros for an output with no gradient, inside the backward's scope (freed at its end)
      node.outputs.forEach((o, j) => dys[j] === undefined && this.grad(o.bytes));
      const dxs = node.inputs.map((x) => this.grad(x.bytes));
      // the gradient function's own temporaries (traced), then its input gradients
      this.push('backward', { transient: node.gradientExtraBytes });
      if (node.record >= 0) {
        const r = trace.records[node.record]!;
        seen++;
        this.label = `record of ${r.layer}`;
        // the record holds tensors of its own (a view of a, a view or clone of dy)
        this.held.set(node.record, { left: Math.max(1, r.params.length), bytes: r.activationBytes + r.gradOutputBytes });
        // the record's dy is a view of the gradient the node's function made, and the record is processed
        // (norms, sums) inside that function: the original lives until it returns, counted beside the view
        this.inNode = Math.min(node.gradientExtraBytes, r.gradOutputBytes);
        this.push('backward', {});
        this.arrivals.push(this.points[this.points.length - 1]!.bytes);
        if (r.params.length === 0) {
          releaseRecord(node.record);
        } else if (groups === null) {
          // the plain sum (no clip factors) runs its own kernels: its temporaries are traced apart
          for (const p of r.params) {
            sumInto(p.name, r.plainSumTempBytes[p.role] ?? clipTemp(r, p.role), r.plainIntoTempBytes?.[p.role]);
            releaseRecord(node.record);
          }
        } else {
          // a record that will wait for its group takes its kernel's waiting form on arrival, before
          // its norms (GroupClipper): that form is made beside it, then replaces it
          const kernel = getNormKernel(r.kind);
          const inRecord = new Map<number, number>();
          for (const p of r.params) inRecord.set(groupOf.get(p.name)!, (inRecord.get(groupOf.get(p.name)!) ?? 0) + 1);
          const waits = r.params.every((p) => usesOf.get(p.name) === 1) && [...inRecord].every(([g, n]) => openParams[g]! > n);
          if (waits && kernel.compact && kernel.compactBytes && (this.options.compactRecords ?? recordCompactionEnabled())) {
            const bytes = kernel.compactBytes(r.shape, r.params.map((p) => p.role));
            if (bytes !== null) {
              this.push('norms', { transient: bytes });
              this.held.get(node.record)!.bytes = bytes;
            }
          }
          this.push('norms', { transient: this.normBytes(r) });
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
            const rows = gatherable(g);
            if (rows) {
              // its per-sample rows [B, n] a parameter, made by one launch, then the record goes
              this.label = `gathered rows of ${groups[g]!.name}`;
              this.held.set(-1 - g, { left: 1, bytes: rows.members.reduce((a, m) => a + rows.r.shape.batch * this.paramSize.get(m.name)!, 0) });
              this.push('clipped-sums', {});
              for (const m of rows.members) {
                releaseRecord(m.u.record);
                uses.delete(m.name);
              }
              gathered.push({ g, names: rows.members.map((m) => m.name) });
              clipGathered(false);
              continue;
            }
            for (const name of groups[g]!.params) {
              for (const u of uses.get(name) ?? []) {
                const r = trace.records[u.record]!;
                sumInto(name, clipTemp(r, u.role), r.clipIntoTempBytes?.[u.role]);
                releaseRecord(u.record);
              }
              uses.delete(name);
            }
          }
        }
        this.recordsPeak = Math.max(this.recordsPeak, this.heldBytes());
        this.inNode = 0;
      }
      for (const o of node.outputs) {
        const h = acc.get(o.tensorId);
        if (h !== undefined) this.grads.delete(h);
        acc.delete(o.tensorId);
      }
      for (const t of node.saved) this.tape -= t.bytes;
      node.inputs.forEach((x, j) => {
        const prev = acc.get(x.tensorId);
        if (prev === undefined) {
          acc.set(x.tensorId, dxs[j]!);
          return;
        }
        const sum = this.grad(x.bytes);
        this.push('backward', {});
        this.grads.delete(prev);
        this.grads.delete(dxs[j]!);
        acc.set(x.tensorId, sum);
      });
      this.push('backward', {});
    }
    // the backward's scope ends: remaining gradients and zeros, the pruned nodes' saved tensors
    this.grads.clear();
    this.tape = 0;
    // the micro-batch's end (after the backward's scope) clips the gathered groups left
    if (gathering) clipGathered(true);
    // groups whose parameters were all unused close at the end, with nothing to sum
    this.held.clear();
    this.push('backward', {});
    return closedAfter;
  }

  /** The largest per-sample-norm temporary among the record's parameters, in the mode the kernel will use. */
  private normBytes(r: TracedRecord): number {
    const cost = getNormKernel(r.kind).cost(r.shape);
    const mode = this.options.normMode ?? 'auto';
    return Math.max(0, ...r.params.map((p) => {
      const c = cost[p.role];
      if (!c) return 0;
      const m = mode === 'auto' ? c.chosen : mode === 'ghost' && c.ghost ? 'ghost' : 'instantiate';
      return (m === 'ghost' ? c.ghost! : c.instantiate).bytes;
    }));
  }

  private release(): void {
    const noise = this.options.groups === null ? 0 : (this.options.noiseTemporaries ?? 3);
    const output = this.options.releaseInPlace ? 0 : 1;
    for (const [name, p] of this.paramSize) {
      this.label = `noise on ${name}`;
      this.push('noise', { transient: (output + noise) * p });
    }
    const update = this.options.update ?? null;
    if (update === null) return;
    const order = this.options.updateOrder ?? [...this.paramSize.keys()].reverse();
    const sizes = order.filter((n) => this.paramSize.has(n)).map((n) => [n, this.paramSize.get(n)!] as const);
    const total = sizes.reduce((a, [, p]) => a + p, 0);
    // a pass over every parameter: `held` bytes of earlier passes' outputs, then each parameter's output
    // and temporaries (`temps` of its size) above the outputs made before it in this pass
    const pass = (what: string, held: number, temps: number) => {
      let done = 0;
      for (const [name, p] of sizes) {
        this.label = `${what} of ${name}`;
        this.push('update', { transient: held + done + temps * p });
        done += p;
      }
    };
    if (update !== 'sgd') {
      pass('first moment', 0, 3); // m·β₁, g·(1 − β₁), their sum
      pass('second moment', total, 4); // v·β₂, g², g²·(1 − β₂), their sum
      pass('Adam update', 2 * total, 5); // m / c₁, v / c₂, its sqrt, + ε, the quotient
      if (update === 'adamw') pass('weight decay', 3 * total, 2); // θ·λ, u + θ·λ
    }
    const kept = update === 'sgd' ? 0 : 2 * total; // Adam's new moments
    pass('learning rate', update === 'sgd' ? 0 : 3 * total, 1); // beside the moments, the updates it scales
    for (const [name, p] of sizes) {
      this.label = `update of ${name}`;
      // every update, and the new value; guarded, also its selection against the old one: TF.js's `where`
      // broadcasts its three operands (two clones, a bool condition of a quarter of the bytes) beside its output
      this.push('update', { transient: kept + total + (this.options.guardedUpdate ? 4.25 : 1) * p });
    }
  }

  private grad(bytes: number): number {
    const h = this.nextHandle++;
    this.grads.set(h, bytes);
    return h;
  }

  /** Bytes the node whose record is being processed still holds (added to every point until it returns). */
  private inNode = 0;

  private heldBytes(): number {
    let s = 0;
    for (const h of this.held.values()) s += h.bytes;
    return s;
  }

  private push(phase: StepPhase, extra: Partial<MemoryComponents>): void {
    let grads = 0;
    for (const b of this.grads.values()) grads += b;
    const c: MemoryComponents = {
      tape: this.tape + (extra.tape ?? 0),
      grads: grads + (extra.grads ?? 0),
      records: this.heldBytes() + (extra.records ?? 0),
      sums: this.sums + (extra.sums ?? 0),
      transient: (extra.transient ?? 0) + this.inNode,
    };
    this.points.push({ phase, label: this.label, ...c, bytes: c.tape + c.grads + c.records + c.sums + c.transient });
  }
}
