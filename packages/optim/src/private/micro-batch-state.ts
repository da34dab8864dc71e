import * as tf from '@tensorflow/tfjs-core';
import type { ClipEpilogue, GhostSqNormPair, LayerRecord, ParamSpec } from '@clipwise/core';
import { SqNormSum, StreamingSqNorms, type NormModeOption } from '@clipwise/ghost-norm';
import type { Grouping } from '@clipwise/grouping';
import type { GroupMicroStats } from './group-clipper';

/** A waiting record's ghost-norm operands (its own a and dy, alive while it is held) and the roles they cover. */
export interface DeferredRecord {
  readonly record: LayerRecord;
  readonly roles: readonly string[];
  readonly pair: GhostSqNormPair;
}

/** A closed group whose rows wait to be clipped with others' (`setGatheredRowCloses`): kept rows [B, n_k] of its parameters. */
export interface GatheredGroup {
  readonly group: number;
  readonly names: readonly string[];
  readonly rows: readonly tf.Tensor2D[];
  readonly clip: ClipEpilogue;
  readonly closedAfterRecords: number;
}

/** Bookkeeping of one forward/backward. */
export class MicroBatchState {
  readonly uses = new Map<string, Array<{ record: LayerRecord; readonly role: string }>>();
  /** Records held, with how many of their parameters are still waiting for their group to close. */
  readonly held = new Map<LayerRecord, number>();
  readonly remaining: number[];
  readonly closed: boolean[];
  readonly stats: GroupMicroStats[];
  /** Per group, the running Σ of its complete parameters' per-sample squared norms. */
  readonly groupSq: SqNormSum[];
  /** Own norms and tied cross terms, folded per parameter as records arrive. */
  readonly norms: StreamingSqNorms;
  /** Per group, waiting records whose ghost-norm partials its close launches together (their roles counted done on arrival). */
  readonly deferred: DeferredRecord[][];
  /** Closed groups whose clipping waits for a gathered launch (`setGatheredRowCloses`). */
  gathered: GatheredGroup[] = [];
  recordsSeen = 0;

  constructor(grouping: Grouping, params: Map<string, ParamSpec>, normMode: NormModeOption) {
    this.remaining = grouping.groups.map((g) => g.params.filter((n) => params.has(n)).length);
    this.closed = grouping.groups.map(() => false);
    this.stats = grouping.groups.map(() => ({ norms: null, closedAfterRecords: 0 }));
    this.groupSq = grouping.groups.map(() => new SqNormSum());
    this.deferred = grouping.groups.map(() => []);
    this.norms = new StreamingSqNorms({ normMode });
  }

  /** Frees the partial sums and gathered rows (the records are in `held`). */
  dispose(): void {
    for (const g of this.gathered) tf.dispose(g.rows as tf.Tensor2D[]);
    this.gathered = [];
    for (const s of this.groupSq) s.dispose();
    this.norms.dispose();
  }
}
