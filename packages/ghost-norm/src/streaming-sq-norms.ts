import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseConfigError, type LayerRecord, type RecordingScope } from '@clipwise/core';
import { perSampleCrossTerm } from './cross-terms';
import { getNormKernel, type NormMode, type NormModeOption } from './norm-kernel';
import { SqNormSum } from './sq-norm-sum';

/** A parameter's complete per-sample squared gradient norm, every use folded in. */
export interface ParamSqNorm {
  readonly name: string;
  /** [B], kept past tidy scopes; the receiver disposes it. */
  readonly sqNorms: tf.Tensor1D;
  /** The mode the kernel of the parameter's last use chose. */
  readonly mode: NormMode;
}

/** What one `fold` (or `finish`) produced. */
export interface FoldResult {
  /** Parameters whose last use this was, in the record's role order. */
  readonly complete: ParamSqNorm[];
  /**
   * Records the folder stopped needing in this call: this record, unless a later use of one of its
   * parameters still needs it for a cross term, and earlier uses of a tied parameter that just
   * completed. Every folded record is listed exactly once over the folder's life (by `fold`,
   * `finish` or `dispose`).
   */
  readonly released: LayerRecord[];
}

interface Use {
  readonly record: LayerRecord;
  readonly role: string;
}

/** A parameter with uses still to come: its earlier uses and the running Σ of their terms. */
interface Pending {
  readonly uses: Use[];
  readonly sum: SqNormSum;
  mode: NormMode;
}

/**
 * Folds layer records, as they arrive in backward, into each parameter's per-sample squared gradient
 * norm [B]. A parameter used once is complete with its record (its own norm, no extra launch). A
 * parameter used n times (GPT-2's token embedding tied to its LM head) has one per-sample gradient
 * g = Σ_k g_k, so ‖g‖² = Σ_k ‖g_k‖² + 2 Σ_{j<k} ⟨g_j, g_k⟩ (Li et al. 2022, ghost clipping of tied
 * weights): each own norm and cross term is computed once, when its later record arrives, and they are
 * summed when the last use (`scope.uses`) is folded — one addN for two uses.
 *
 * The records stay the owner's: the folder never disposes one. It reports which records it no longer
 * needs (`released`), and `needs(record)` says whether it still does (an earlier use of a tied
 * parameter, waiting for the later uses' cross terms). An owner that frees records as early as
 * possible disposes every released record; one that keeps records longer (the private step keeps them
 * for the clipped sums until their group closes) must not free one the folder still needs.
 *
 * @example
 * const folder = new StreamingSqNorms({ normMode: 'auto' });
 * recordedBackward(lossFn, {
 *   onRecord: (record, scope) => {
 *     const { complete, released } = folder.fold(record, scope);
 *     for (const p of complete) sqNorms.set(p.name, p.sqNorms); // [B] each
 *     released.forEach(disposeRecord);
 *   },
 * });
 * for (const p of folder.finish().complete) sqNorms.set(p.name, p.sqNorms); // uses that never arrived
 */
export class StreamingSqNorms {
  private readonly normMode: NormModeOption;
  private readonly pending = new Map<string, Pending>();
  /** Records held, with how many pending parameters need each. */
  private readonly holds = new Map<LayerRecord, number>();
  /** Records folded per parameter in this backward pass (a surplus one is an error). */
  private readonly seen = new Map<string, number>();

  constructor(options: { readonly normMode?: NormModeOption } = {}) {
    this.normMode = options.normMode ?? 'auto';
  }

  /**
   * Folds one record: the own norms of `roles` (default: all of the record's parameters) and their
   * cross terms with earlier uses. `scope.uses` counts each parameter's uses in forward. If it throws,
   * `record` is the owner's to free unless `needs(record)`, and `dispose()` returns every other record.
   */
  fold(record: LayerRecord, scope: Pick<RecordingScope, 'uses'>, roles: readonly string[] = Object.keys(record.params)): FoldResult {
    for (const role of roles) {
      if (!record.params[role]) {
        throw new ClipwiseConfigError(`StreamingSqNorms.fold: layer ${record.layer} has no parameter role '${role}' (roles: ${Object.keys(record.params).join(', ')})`);
      }
    }
    const own = getNormKernel(record.kind).perSampleSqNorms(record, this.normMode, roles);
    const complete: ParamSqNorm[] = [];
    const released = new Set<LayerRecord>();
    const owned = new Set<string>(); // roles whose own norm was handed on
    try {
      for (const role of roles) {
        const name = record.params[role]!.name;
        const { sqNorms, mode } = own[role]!;
        const uses = scope.uses.get(name) ?? 0;
        const p = this.pending.get(name);
        const seen = (this.seen.get(name) ?? 0) + 1;
        if (seen > uses) {
          throw new Error(`StreamingSqNorms.fold: record ${seen} of parameter ${name} (layer ${record.layer}), but scope.uses counts ${uses} use(s) in forward`);
        }
        this.seen.set(name, seen);
        owned.add(role);
        if (!p && uses === 1) {
          complete.push({ name, sqNorms: tf.keep(sqNorms), mode });
          continue;
        }
        const pend = p ?? { uses: [], sum: new SqNormSum(), mode };
        this.pending.set(name, pend); // before any term: dispose() frees it if a cross term throws
        pend.mode = mode;
        pend.sum.add(sqNorms);
        for (const e of pend.uses) pend.sum.add(tf.tidy(() => perSampleCrossTerm(record, role, e.record, e.role)), 2);
        if (seen < uses) {
          pend.uses.push({ record, role });
          this.holds.set(record, (this.holds.get(record) ?? 0) + 1);
        } else {
          this.pending.delete(name);
          complete.push({ name, sqNorms: pend.sum.take()!, mode });
          for (const e of pend.uses) if (this.release(e.record)) released.add(e.record);
        }
      }
    } catch (e) {
      // nothing half-done escapes: completed sums are dropped, records released so far go back to `dispose()`
      tf.dispose(complete.map((p) => p.sqNorms));
      for (const r of released) this.holds.set(r, this.holds.get(r) ?? 1);
      throw e;
    } finally {
      for (const [role, r] of Object.entries(own)) if (!owned.has(role)) r.sqNorms.dispose();
    }
    if (!this.holds.has(record)) released.add(record);
    return { complete, released: [...released] };
  }

  /** Whether a later use still needs `record` for a cross term (the owner must keep it). */
  needs(record: LayerRecord): boolean {
    return this.holds.has(record);
  }

  /** How many records the folder still needs. */
  get heldRecords(): number {
    return this.holds.size;
  }

  /**
   * Ends the backward pass: parameters some of whose uses never produced a record (a use whose output
   * does not reach the loss has a zero gradient) are complete with the uses that did, and their records
   * are released. The folder is then empty, ready for the next backward pass.
   */
  finish(): FoldResult {
    const complete = [...this.pending].map(([name, p]) => ({ name, sqNorms: p.sum.take()!, mode: p.mode }));
    this.pending.clear();
    this.seen.clear();
    const released = [...this.holds.keys()];
    this.holds.clear();
    return { complete, released };
  }

  /** Drops every partial sum (after an error); returns the records it still needed, for the owner to free. */
  dispose(): LayerRecord[] {
    for (const p of this.pending.values()) p.sum.dispose();
    this.pending.clear();
    this.seen.clear();
    const released = [...this.holds.keys()];
    this.holds.clear();
    return released;
  }

  /** One pending parameter no longer needs `record`; true when none does. */
  private release(record: LayerRecord): boolean {
    const n = this.holds.get(record)! - 1;
    if (n > 0) this.holds.set(record, n);
    else this.holds.delete(record);
    return n === 0;
  }
}
