import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '../record/layer-record';
import { activeRecording, type RecordingScope } from '../record/recording';
import type { LayerKind, ParamSpec } from '../types';

/** What a layer's recorded backward returns: its input gradient and the record for the kernels. */
export interface LayerBackward {
  /** Gradient w.r.t. the layer's differentiable input; omitted for layers whose input is data (ids, pixels). */
  dx?: tf.Tensor;
  /** The tensors the kernels need; the layer passes fresh or cloned tensors, which the record then owns. */
  record: Omit<LayerRecord, 'layer' | 'kind' | 'params'>;
}

/**
 * Base of every DP-aware layer. Outside a recorded step a layer is a plain TF.js function. Inside
 * one (see `RecordingScope`), it runs as a `tf.customGrad` op whose weights are closed over, not
 * inputs: TF.js autodiff therefore never forms their summed (non-private) gradient; instead the
 * layer's gradFunc hands a `LayerRecord` with `(a, dy)` to the recorder and returns only the input
 * gradient. The scope's scalar anchor is an extra input so that backprop reaches every layer.
 */
export abstract class DPLayer {
  abstract readonly kind: LayerKind;
  /** Position in forward (construction) order. */
  readonly order: number;

  protected constructor(
    readonly name: string,
    order: number,
  ) {
    if (!name) throw new Error('DP-aware layers need a non-empty name');
    this.order = order;
  }

  /** The parameters this layer's records carry, by role (a tied weight appears in each user). */
  abstract get paramsByRole(): Readonly<Record<string, ParamSpec>>;

  /** The parameters this layer created (not those it borrows through tying). */
  abstract ownParams(): ParamSpec[];

  /**
   * The parameters of `paramsByRole` that train (`variable.trainable`): the only ones the layer's
   * records carry. A frozen parameter gets no record, norm, noise or optimizer state.
   */
  get trainableByRole(): Readonly<Record<string, ParamSpec>> {
    return Object.fromEntries(Object.entries(this.paramsByRole).filter(([, p]) => p.variable.trainable));
  }

  /** Whether the parameter of `role` trains: a layer skips the record work of a frozen one (its weight gradient's activation). */
  protected trains(role: string): boolean {
    return this.paramsByRole[role]?.variable.trainable === true;
  }

  /** Frees the layer's own variables. */
  dispose(): void {
    for (const p of this.ownParams()) p.variable.dispose();
  }

  /**
   * Runs `forward` as a recorded op when a step is recording, else plainly.
   * `input` is the differentiable input (null when the input is data, closed over by `forward`);
   * `backwardFn(dy, saved)` computes the record and the input gradient from the saved tensors.
   * `residual`, when given, is a second differentiable input that `forward` adds to its output (in
   * its own kernel's epilogue): its gradient is dy.
   */
  protected recorded(
    input: tf.Tensor | null,
    forward: (x: tf.Tensor | null, save: (ts: tf.Tensor[]) => void, residual?: tf.Tensor) => tf.Tensor,
    backwardFn: (dy: tf.Tensor, saved: tf.Tensor[]) => LayerBackward,
    residual?: tf.Tensor,
  ): tf.Tensor {
    const scope = activeRecording();
    if (scope === null) return forward(input, () => undefined, residual);
    const params = this.trainableByRole;
    const extra = residual ? [residual] : [];
    if (Object.keys(params).length === 0) {
      // nothing trains: no record and no anchor. Data input: a plain op. Otherwise an op that only
      // passes dx on; off the anchor's path, the backward pass stops before frozen leading layers.
      return input === null ? forward(input, () => undefined, residual) : this.frozenOp(forward, backwardFn, residual !== undefined)(input, ...extra);
    }
    scope.noteUse(Object.values(params));
    const op = this.customOp(scope, input !== null, params, forward, backwardFn, residual !== undefined);
    return input !== null ? op(input, ...extra, scope.anchor) : op(...extra, scope.anchor);
  }

  /** A layer whose parameters are all frozen, inside a recorded step: its own backward's dx, no record. */
  private frozenOp(
    forward: (x: tf.Tensor | null, save: (ts: tf.Tensor[]) => void, residual?: tf.Tensor) => tf.Tensor,
    backwardFn: (dy: tf.Tensor, saved: tf.Tensor[]) => LayerBackward,
    hasResidual: boolean,
  ): (...args: tf.Tensor[]) => tf.Tensor {
    return tf.customGrad((...args: unknown[]) => {
      const save = args[args.length - 1] as (ts: tf.Tensor[]) => void;
      return {
        value: forward(args[0] as tf.Tensor, save, hasResidual ? (args[1] as tf.Tensor) : undefined),
        // the record's fresh tensors go with this node's tidy
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const { dx } = backwardFn(dy, saved);
          if (dx == null) throw new Error(`${this.name}: backward gave no input gradient`);
          // the residual's gradient is dy itself (a handle of its own: the pass frees dy after this node)
          return hasResidual ? [dx, tf.clone(dy)] : [dx];
        },
      };
    }) as (...args: tf.Tensor[]) => tf.Tensor;
  }

  private customOp(
    scope: RecordingScope,
    hasInput: boolean,
    params: Readonly<Record<string, ParamSpec>>,
    forward: (x: tf.Tensor | null, save: (ts: tf.Tensor[]) => void, residual?: tf.Tensor) => tf.Tensor,
    backwardFn: (dy: tf.Tensor, saved: tf.Tensor[]) => LayerBackward,
    hasResidual = false,
  ): (...args: tf.Tensor[]) => tf.Tensor {
    return tf.customGrad((...args: unknown[]) => {
      const save = args[args.length - 1] as (ts: tf.Tensor[]) => void;
      const x = hasInput ? (args[0] as tf.Tensor) : null;
      const value = forward(x, save, hasResidual ? (args[hasInput ? 1 : 0] as tf.Tensor) : undefined);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const { dx, record } = backwardFn(dy, saved);
          // dy and the saved tensors are freed by the backward pass right after this node: the
          // record needs handles of its own (clones share the data, so this copies nothing).
          const own = (t: tf.Tensor): tf.Tensor => (t === dy || saved.includes(t) ? tf.clone(t) : t);
          const full: LayerRecord = {
            ...record,
            activation: record.activation && own(record.activation),
            gradOutput: own(record.gradOutput),
            layer: this.name,
            kind: this.kind,
            params,
          };
          // The record outlives this backward node: keep its tensors out of every tidy scope.
          if (full.activation) tf.keep(full.activation);
          tf.keep(full.gradOutput);
          scope.recorder.onRecord(full, scope);
          const dAnchor = scope.anchorGradient();
          const dResidual = hasResidual ? [tf.clone(dy)] : [];
          if (!hasInput) return [...dResidual, dAnchor];
          if (dx == null) throw new Error(`${this.name}: backward gave no input gradient`);
          return [dx, ...dResidual, dAnchor];
        },
      };
    }) as (...args: tf.Tensor[]) => tf.Tensor;
  }
}

/** [B, d1, ..., dk, f] -> [B, T, f] with T = d1·…·dk (T = 1 for rank 2). */
export function asBatchSeq(t: tf.Tensor): tf.Tensor3D {
  const b = t.shape[0]!;
  const f = t.shape[t.rank - 1]!;
  return t.reshape([b, t.rank === 2 ? 1 : -1, f]) as tf.Tensor3D;
}
