import * as tf from '@tensorflow/tfjs-core';
import { ClipwisePrivacyError, clippedRowSumsGroups, disposeRecord, ghostSqNormPartialsMany, groupsPerLaunch, weightedRowSums, type ClipEpilogue, type LayerRecord, type ParamSpec, type Recorder, type RecordingScope, type SampleTerm } from '@clipwise/core';
import { deferredGhostNormsEnabled, getNormKernel, recordCompactionEnabled, type ClippedSumWithClip, type NormMode, type NormModeOption, type ParamSqNorm } from '@clipwise/ghost-norm';
import type { Grouping } from '@clipwise/grouping';
import { normsAndClipFactors, validateClipping, type ClippingConfig } from './clipping';
import { MicroBatchState, type GatheredGroup } from './micro-batch-state';
import { gatheredRowClosesEnabled } from './gathered-row-closes';
import { addRecordSums, addToSum } from './record-sums';

/** What one group saw in one micro-batch. */
export interface GroupMicroStats {
  /**
   * Per-sample group norms n_im (before clipping), [B], kept on the device: read them
   * asynchronously (webgpu has no synchronous reads in Node), then dispose. Null if the group's
   * parameters were not used.
   */
  readonly norms: tf.Tensor1D | null;
  /** The backward position (records seen so far) when the group closed. */
  readonly closedAfterRecords: number;
}

/** The norm mode each parameter's kernel used (mixed ghost clipping decides per layer). */
export type ModeReport = Record<string, NormMode>;

/**
 * The recorder of a private step. It receives layer records during backward, forms per-sample
 * norms as they arrive, and closes a group as soon as every use of every member parameter has been
 * seen: clip factors c_im, Book-Keeping clipped sums Σ_i c_im g_i added to the running sums, and
 * the records released. Layer-wise groups thus close (and free their `(a, dy)`) one by one during
 * backward; all-layer clipping closes once, at the end (He et al. 2022, group-wise clipping).
 */
export class GroupClipper implements Recorder {
  /** Running Σ_i c_i g_i per parameter, across the micro-batches of one logical batch. */
  readonly sums = new Map<string, tf.Tensor>();
  readonly modes: ModeReport = {};
  private readonly paramIndex: Map<string, ParamSpec>;
  private micro: MicroBatchState | null = null;
  private microStats: GroupMicroStats[][] = [];

  constructor(
    private readonly params: readonly ParamSpec[],
    private grouping: Grouping,
    private readonly clipping: ClippingConfig,
    private readonly normMode: NormModeOption = 'auto',
  ) {
    this.paramIndex = new Map(params.map((p) => [p.name, p]));
    for (const p of params) grouping.groupIndexOf(p.name); // throws for a parameter outside the grouping
  }

  /**
   * Clips with new thresholds from the next logical batch on (an adaptive threshold policy moves
   * them after each release). The groups must be the same; only between logical batches.
   */
  useGrouping(next: Grouping): void {
    if (this.micro || this.sums.size > 0 || this.microStats.length > 0) {
      throw new Error('GroupClipper.useGrouping: a logical batch is in progress; change thresholds only after release');
    }
    const names = (g: Grouping) => JSON.stringify(g.groups.map((x) => [x.name, x.params]));
    if (names(next) !== names(this.grouping)) throw new Error('GroupClipper.useGrouping: the new grouping has different groups; only thresholds may change');
    this.grouping = next;
  }

  /** Starts a micro-batch (one forward/backward). */
  begin(): void {
    if (this.micro) throw new Error('GroupClipper.begin: previous micro-batch not finished');
    this.micro = new MicroBatchState(this.grouping, this.paramIndex, this.normMode);
  }

  onRecord(arrived: LayerRecord, scope: RecordingScope): void {
    const m = this.micro;
    if (!m) throw new Error('GroupClipper: record received outside a micro-batch');
    m.recordsSeen++;
    const roles = Object.entries(arrived.params).filter(([, p]) => p.variable.trainable);
    const unknown = roles.filter(([, p]) => !this.paramIndex.has(p.name)).map(([, p]) => p.name);
    if (unknown.length > 0) {
      disposeRecord(arrived);
      throw new ClipwisePrivacyError(
        `layer ${arrived.layer} has trainable parameters not in the private step's parameter list: ${unknown.join(', ')}. ` +
          `Pass every trainable parameter (collectParams(model layers)) or freeze them.`,
      );
    }
    if (roles.length === 0) {
      disposeRecord(arrived);
      return;
    }
    // A record that will wait for its group (all-layer clipping: every record but the last) takes its
    // kernel's waiting form first: a layer norm's per-sample gradients instead of x̂ and dy (1/T of
    // the bytes), a bias's beside (a, dy). Their norms and clipped sums are then formed at the group's
    // close with every other such parameter's, a few launches for all (were three or four a layer).
    const kernel = getNormKernel(arrived.kind);
    const waiting = this.waits(m, roles, scope);
    let record = arrived;
    if (kernel.compact && recordCompactionEnabled() && waiting) {
      try {
        record = kernel.compact(arrived);
      } catch (e) {
        disposeRecord(arrived);
        throw e;
      }
      // the compacted form shares no tensor object with the arrival
      if (record !== arrived) disposeRecord(arrived);
    }
    m.held.set(record, roles.length);
    for (const [role, p] of roles) {
      const list = m.uses.get(p.name);
      if (list) list.push({ record, role });
      else m.uses.set(p.name, [{ record, role }]);
    }
    // per-sample gradients a compacted record holds: their squared rows are the norms' terms
    for (const [role, p] of roles) {
      const g = record.perSample?.[role];
      if (g !== undefined) this.addTerm(p.name, { kind: 'sq', tensor: g as tf.Tensor2D }, 'instantiate', true);
    }
    const folded = roles.filter(([role]) => record.perSample?.[role] === undefined).map(([role]) => role);
    if (folded.length === 0) return;
    // param-wise: a linear layer's weight and bias, each a group of its own, both closing here
    if (this.closeApart(record, folded, scope)) return;
    // parameters used once need no cross terms: their norms go to the group as the kernel's terms
    // (a ghost norm's tile partials, summed by the clip factors' kernel: one launch fewer a linear layer)
    if (kernel.sqNormTerms && folded.every((role) => scope.uses.get(record.params[role]!.name) === 1)) {
      // a record that waits hands over its ghost-norm operands: its group's close launches all of them at once
      const rest = waiting && deferredGhostNormsEnabled() && kernel.deferredGhost ? this.defer(record, folded) : folded;
      if (rest.length === 0) return;
      // roles clipped together may share one term (a bias's norm inside its weight's ghost-norm launch)
      const terms = kernel.sqNormTerms(record, this.normMode, rest, this.joint(record, rest));
      // a role whose norm is inside another's term only counts as done, after that term is in
      const entries = Object.entries(terms).sort(([, x], [, y]) => +(x.term === null) - +(y.term === null));
      for (const [role, r] of entries) {
        if (rest.includes(role)) this.addTerm(record.params[role]!.name, r.term, r.mode, r.borrowed);
        else if (r.term && !r.borrowed) r.term.tensor.dispose();
      }
      return;
    }
    // The folder's `released` is not needed here: a record stays until every group of its parameters
    // has closed (the clipped sums read it), and a record the folder holds waits for one of its own
    // parameters, whose group cannot close before that parameter completes.
    const { complete } = m.norms.fold(record, scope, folded);
    for (const p of complete) this.paramDone(p);
  }

  /**
   * Closes the groups of a record's weight and bias where each is a group of one parameter, used once,
   * both closing with this record (param-wise clipping), through the kernel's `clippedSumsApart`: on
   * webgpu one ghost-norm launch and one product for both, where the bias alone took two more.
   * False, having done nothing, where that does not apply.
   */
  private closeApart(record: LayerRecord, folded: readonly string[], scope: RecordingScope): boolean {
    const kernel = getNormKernel(record.kind);
    if (!kernel.clippedSumsApart || folded.length !== 2 || !folded.includes('weight') || !folded.includes('bias')) return false;
    const m = this.micro!;
    const roles = ['weight', 'bias'] as const;
    const names = roles.map((role) => record.params[role]!.name);
    const groups = names.map((name) => this.grouping.groupIndexOf(name));
    const alone = (k: number) => scope.uses.get(names[k]!) === 1 && this.grouping.groups[groups[k]!]!.params.length === 1;
    if (groups[0] === groups[1] || !alone(0) || !alone(1)) return false;
    const clip = (k: number) => this.clipOf(this.grouping.groups[groups[k]!]!.threshold);
    if (this.gather(record, roles, (k) => ({ group: groups[k]!, names: [names[k]!], clip: clip(k) }))) return true;
    const r = kernel.clippedSumsApart(record, this.normMode, { weight: clip(0), bias: clip(1) });
    if (!r) return false;
    roles.forEach((role, k) => {
      const g = groups[k]!;
      this.modes[names[k]!] = r.modes[role]!;
      m.remaining[g] = 0;
      m.closed[g] = true;
      m.uses.delete(names[k]!);
      m.stats[g] = { norms: tf.keep(r.norms[role]!), closedAfterRecords: m.recordsSeen };
      addToSum(this.sums, names[k]!, r.sums[role]!);
    });
    this.releaseRoles(record, roles.length);
    return true;
  }

  /** Whether a record's `roles` are clipped in one group (only their summed norm matters). */
  private joint(record: LayerRecord, roles: readonly string[]): boolean {
    return new Set(roles.map((role) => this.grouping.groupIndexOf(record.params[role]!.name))).size === 1;
  }

  /**
   * Holds the ghost-norm operands of a waiting record's roles (`NormKernel.deferredGhost`) in their
   * group's deferred list, for `closeGroup` to launch with the group's others; returns the roles left
   * to take their terms now. The deferred roles count as done already: their group has members still
   * to come (the record waits), so it cannot close before its close adds their partials.
   */
  private defer(record: LayerRecord, folded: readonly string[]): readonly string[] {
    const m = this.micro!;
    const deferred = getNormKernel(record.kind).deferredGhost!(record, this.normMode, folded, this.joint(record, folded));
    if (!deferred) return folded;
    const roles = Object.keys(deferred.modes);
    const groups = new Set(roles.map((role) => this.grouping.groupIndexOf(record.params[role]!.name)));
    if (groups.size !== 1 || roles.some((role) => !folded.includes(role))) {
      throw new Error(`GroupClipper: kernel '${record.kind}' deferred roles ${roles.join(', ')} of ${record.layer}, which are not roles asked for in one group`);
    }
    const [g] = groups;
    m.deferred[g!]!.push({ record, roles, pair: deferred.pair });
    for (const role of roles) this.addTerm(record.params[role]!.name, null, deferred.modes[role]!);
    return folded.filter((role) => !roles.includes(role));
  }

  /**
   * The deferred records' ghost-norm partials of group `g` as one term of its sum, in one tensor
   * (`ghostSqNormPartialsMany`: a launch a layer); where it cannot run them all, each record's own
   * terms (`sqNormTerms`), as on arrival.
   */
  private addDeferred(g: number): void {
    const m = this.micro!;
    const deferred = m.deferred[g]!;
    if (deferred.length === 0) return;
    m.deferred[g] = [];
    const partials = ghostSqNormPartialsMany(deferred.map((d) => d.pair));
    if (partials) {
      m.groupSq[g]!.addTerm({ kind: 'sum', tensor: partials });
      return;
    }
    for (const { record, roles } of deferred) {
      const terms = getNormKernel(record.kind).sqNormTerms!(record, this.normMode, roles, this.joint(record, roles));
      for (const [role, r] of Object.entries(terms)) {
        if (roles.includes(role) && r.term) m.groupSq[g]!.addTerm(r.term, r.borrowed);
        else if (r.term && !r.borrowed) r.term.tensor.dispose();
      }
    }
  }

  /**
   * Whether none of the groups of a record's parameters closes with it (each has members still to
   * come), every parameter used once (a tied parameter's cross terms need the record as it is).
   */
  private waits(m: MicroBatchState, roles: readonly [string, ParamSpec][], scope: RecordingScope): boolean {
    if (!roles.every(([, p]) => scope.uses.get(p.name) === 1)) return false;
    const inRecord = new Map<number, number>();
    for (const [, p] of roles) {
      const g = this.grouping.groupIndexOf(p.name);
      inRecord.set(g, (inRecord.get(g) ?? 0) + 1);
    }
    return [...inRecord].every(([g, n]) => m.remaining[g]! > n);
  }

  /** Ends the micro-batch: closes the groups still open (parameters unused in this forward add nothing). */
  end(): void {
    const m = this.micro;
    if (!m) throw new Error('GroupClipper.end: no micro-batch running');
    // parameters some of whose uses never reached the loss: their norm is that of the uses that did
    for (const p of m.norms.finish().complete) this.addToGroup(p);
    for (let g = 0; g < this.grouping.groups.length; g++) if (!m.closed[g]) this.closeGroup(g);
    this.clipGathered(true);
    this.microStats.push(m.stats);
    this.micro = null;
  }

  /** Drops everything of the current logical batch (after an error). */
  reset(): void {
    if (this.micro) {
      for (const record of this.micro.held.keys()) disposeRecord(record);
      this.micro.dispose();
      this.micro = null;
    }
    for (const t of this.sums.values()) t.dispose();
    this.sums.clear();
    disposeStats(this.microStats);
    this.microStats = [];
  }

  /** Per-group statistics of the logical batch so far, and clears them; the caller disposes the norms. */
  takeStats(): GroupMicroStats[][] {
    const s = this.microStats;
    this.microStats = [];
    return s;
  }

  /** Records currently held (for memory accounting and tests). */
  get heldRecords(): number {
    return this.micro?.held.size ?? 0;
  }

  /** A parameter's complete per-sample squared norm as a term (owned here unless `borrowed`): into its group's sum, which closes after its last member. */
  private addTerm(name: string, term: SampleTerm | null, mode: NormMode, borrowed = false): void {
    const m = this.micro!;
    this.modes[name] = mode;
    const g = this.grouping.groupIndexOf(name);
    // a term that reads a record's tensors is borrowed: the record outlives its group's close;
    // null: the parameter's norm came inside another's term of its group
    if (term) m.groupSq[g]!.addTerm(term, borrowed);
    if (--m.remaining[g]! === 0) this.closeGroup(g);
  }

  /** A parameter's per-sample squared norm is complete: into its group's sum, which closes after its last member. */
  private paramDone(p: ParamSqNorm): void {
    const m = this.micro!;
    const g = this.addToGroup(p);
    m.remaining[g]!--;
    if (m.remaining[g] === 0) this.closeGroup(g);
  }

  /** Adds a parameter's squared norms to its group's running sum; returns the group's index. */
  private addToGroup(p: ParamSqNorm): number {
    this.modes[p.name] = p.mode;
    const g = this.grouping.groupIndexOf(p.name);
    // ‖n_i‖² = Σ_{θ in group} ‖g_i(θ)‖²: linear, so it folds as the parameters complete
    this.micro!.groupSq[g]!.add(p.sqNorms);
    return g;
  }

  private closeGroup(g: number): void {
    const m = this.micro!;
    m.closed[g] = true;
    const group = this.grouping.groups[g]!;
    this.addDeferred(g);
    // the group's squared-norm terms go to the clip-factor kernel unsummed: it adds them in the same launch
    const { terms: sq, release } = m.groupSq[g]!.takeTerms();
    if (sq.length === 0) {
      m.stats[g] = { norms: null, closedAfterRecords: m.recordsSeen };
      return;
    }
    // one clipped sum per record, for all of its roles in this group (a linear's weight and bias share c ⊙ dy)
    const rolesOf = new Map<LayerRecord, string[]>();
    for (const name of group.params) {
      for (const { record, role } of m.uses.get(name) ?? []) rolesOf.set(record, [...(rolesOf.get(record) ?? []), role]);
      m.uses.delete(name);
    }
    if (rolesOf.size === 1) {
      const [record, roles] = [...rolesOf][0]!;
      const groupOf = () => ({ group: g, names: roles.map((role) => record.params[role]!.name), clip: this.clipOf(group.threshold) });
      if (roles.every((role) => record.perSample?.[role] === undefined) && this.gather(record, roles, groupOf)) {
        release();
        return;
      }
    }
    // Records arrive inside the backward pass's tidy scopes: keep what must outlive them.
    const fused = this.clippedInProduct(rolesOf, sq, group.threshold);
    const { norms, factors: c } = fused ?? normsAndClipFactors(sq, group.threshold, this.clipping);
    tf.keep(norms);
    release();
    m.stats[g] = { norms, closedAfterRecords: m.recordsSeen };
    // first the parameters whose per-sample gradients compacted records hold: their clipped sums
    // together (`weightedRowSums`, small: biases, layer norms)
    const rowNames: string[] = [];
    const rows: tf.Tensor2D[] = [];
    for (const [record, roles] of rolesOf) {
      for (const role of roles) {
        const g = record.perSample?.[role];
        if (g === undefined) continue;
        rowNames.push(record.params[role]!.name);
        rows.push(g as tf.Tensor2D);
      }
    }
    if (rows.length > 0) weightedRowSums(c, rows).forEach((s, k) => addToSum(this.sums, rowNames[k]!, shapedLike(s, this.paramIndex.get(rowNames[k]!)!)));
    // then record by record, each freed once summed: the step holds one weight's clipped sum beside the records, not all
    for (const [record, roles] of rolesOf) {
      const direct = roles.filter((role) => record.perSample?.[role] === undefined);
      if (fused) for (const role of direct) addToSum(this.sums, record.params[role]!.name, fused.sums[role]!);
      else if (direct.length > 0) addRecordSums(getNormKernel(record.kind), record, c, direct, this.sums);
      this.releaseRoles(record, roles.length);
    }
    c.dispose();
  }

  /** The clipping of a group of `threshold`, for a kernel that forms its factors itself. */
  private clipOf(threshold: number): ClipEpilogue {
    const { fn, gamma } = validateClipping(this.clipping);
    return { threshold, gamma, automatic: fn === 'automatic' };
  }

  /**
   * With `setGatheredRowCloses` on: the closing groups of a record's `roles` take their per-sample
   * rows from the kernel (`clipRows`) and wait, kept, for a launch that clips them with other groups'
   * (`clipGathered`); the record's roles are done. `groupOf(k)` says which group row k (of roles[k])
   * is in: one group for all of them (`names` several), or a group each (param-wise). False, having
   * done nothing, where the kernel gives no rows.
   */
  private gather(record: LayerRecord, roles: readonly string[], groupOf: (k: number) => { group: number; names: string[]; clip: ClipEpilogue }): boolean {
    const kernel = getNormKernel(record.kind);
    if (!gatheredRowClosesEnabled() || !kernel.clipRows) return false;
    const made = kernel.clipRows(record, roles);
    if (!made) return false;
    const m = this.micro!;
    // by group, its rows in the order of its names
    const byGroup = new Map<number, { names: string[]; rows: tf.Tensor2D[]; clip: ClipEpilogue }>();
    roles.forEach((role, k) => {
      const { group, names, clip } = groupOf(k);
      const row = tf.keep(made.rows[made.roles.indexOf(role)]!);
      const entry = byGroup.get(group);
      if (entry) entry.rows.push(row);
      else byGroup.set(group, { names, rows: [row], clip });
    });
    for (const [group, { names, rows, clip }] of byGroup) {
      for (const name of names) {
        this.modes[name] = 'instantiate';
        m.uses.delete(name);
      }
      m.remaining[group] = 0;
      m.closed[group] = true;
      m.gathered.push({ group, names, rows, clip, closedAfterRecords: m.recordsSeen });
    }
    this.releaseRoles(record, roles.length);
    this.clipGathered(false);
    return true;
  }

  /**
   * Clips the gathered groups (`gather`), a launch's worth at a time (`groupsPerLaunch`): their norms
   * into the stats, their sums into the running sums. `all`: the rest too (the micro-batch's end),
   * else only whole launches' worth.
   */
  private clipGathered(all = true): void {
    const m = this.micro!;
    const per = groupsPerLaunch(Math.max(0, ...m.gathered.map((x) => x.rows.length)));
    while (m.gathered.length >= per || (all && m.gathered.length > 0)) this.clipSome(m.gathered.splice(0, per));
  }

  /** One launch of gathered groups (`clippedRowSumsGroups`); frees their rows. */
  private clipSome(gathered: readonly GatheredGroup[]): void {
    const m = this.micro!;
    const out = clippedRowSumsGroups(gathered.map(({ rows, clip }) => ({ rows, clip })));
    gathered.forEach((x, k) => {
      m.stats[x.group] = { norms: tf.keep(out[k]!.norms), closedAfterRecords: x.closedAfterRecords };
      x.names.forEach((name, j) => addToSum(this.sums, name, shapedLike(out[k]!.sums[j]!, this.paramIndex.get(name)!)));
      tf.dispose(x.rows as tf.Tensor2D[]);
    });
  }

  /** `count` of a held record's parameters are clipped: the record is freed once none waits. */
  private releaseRoles(record: LayerRecord, count: number): void {
    const m = this.micro!;
    const left = m.held.get(record)! - count;
    if (left === 0 && m.norms.needs(record)) throw new Error(`GroupClipper: record of ${record.layer} freed while a tied parameter's cross term still needs it`);
    if (left === 0) {
      m.held.delete(record);
      disposeRecord(record);
    } else {
      m.held.set(record, left);
    }
  }

  /**
   * A group that is one record's parameters, all direct (a layer-wise linear group, whose one term is
   * its ghost partials with the bias inside; a param-wise weight; a layer norm's γ and β): the kernel's
   * clipped sums with the factors formed in the same launch (`NormKernel.clippedSumWithClip`, which
   * says which terms it takes). Null: the two steps.
   */
  private clippedInProduct(rolesOf: ReadonlyMap<LayerRecord, string[]>, sq: readonly SampleTerm[], threshold: number): ClippedSumWithClip | null {
    if (sq.length === 0 || rolesOf.size !== 1) return null;
    const [record, roles] = [...rolesOf][0]!;
    const kernel = getNormKernel(record.kind);
    if (!kernel.clippedSumWithClip || roles.some((role) => record.perSample?.[role] !== undefined)) return null;
    return kernel.clippedSumWithClip(record, sq, this.clipOf(threshold), roles);
  }
}

/** `s` in the parameter's shape (a per-sample-gradient sum comes flat), freeing `s` if reshaped. */
function shapedLike(s: tf.Tensor, p: ParamSpec): tf.Tensor {
  const shape = p.variable.shape;
  if (shape.length === 1) return s;
  const out = tf.reshape(s, shape);
  s.dispose();
  return out;
}

/** Frees the norm tensors of collected statistics. */
export function disposeStats(stats: readonly GroupMicroStats[][]): void {
  for (const micro of stats) for (const g of micro) g.norms?.dispose();
}
