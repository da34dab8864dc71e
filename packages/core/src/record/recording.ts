import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from './layer-record';
import type { ParamSpec } from '../types';

/** Receives each DP-aware layer's record during backward, in backward order. */
export interface Recorder {
  /** Called once per layer use, in backward order. `scope.uses` is complete by then. */
  onRecord(record: LayerRecord, scope: RecordingScope): void;
}

/**
 * The state of one recorded forward/backward: the scalar "anchor" every DP-aware layer takes as
 * an extra input (differentiating w.r.t. it makes TF.js backprop reach every such layer), the
 * recorder, and how many times each parameter was used in forward (a tied weight is used twice,
 * so its per-sample norm is known only once both records have arrived).
 */
export class RecordingScope {
  readonly uses = new Map<string, number>();
  readonly params = new Map<string, ParamSpec>();

  constructor(
    readonly anchor: tf.Scalar,
    readonly recorder: Recorder,
    /** A kept zero every layer may return as the anchor's gradient when the backward pass discards it (see `anchorGradient`). */
    private readonly sharedZero: tf.Scalar | null = null,
  ) {}

  /**
   * The gradient a layer returns for the anchor. Nobody needs it: with a backward pass that discards
   * it, one shared zero serves every layer (no zeros kernel per layer, and no add to accumulate
   * them: ~150 launches a GPT-2 small step); else a fresh zero.
   */
  anchorGradient(): tf.Tensor {
    return this.sharedZero ?? tf.zerosLike(this.anchor);
  }

  noteUse(params: Iterable<ParamSpec>): void {
    for (const p of params) {
      this.uses.set(p.name, (this.uses.get(p.name) ?? 0) + 1);
      this.params.set(p.name, p);
    }
  }
}

let active: RecordingScope | null = null;

/** The scope of the recorded step being run, or null (plain inference: layers record nothing). */
export function activeRecording(): RecordingScope | null {
  return active;
}

/** Runs `f` with `scope` active; layers applied inside it record. Not re-entrant. */
export function withRecording<T>(scope: RecordingScope, f: () => T): T {
  if (active !== null) {
    throw new Error('withRecording: a recorded step is already running (steps cannot nest)');
  }
  active = scope;
  try {
    return f();
  } finally {
    active = null;
  }
}
