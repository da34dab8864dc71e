import * as tf from '@tensorflow/tfjs-core';
import { disposeRecord, recordedBackward, type LayerKind, type LayerRecord } from '@clipwise/core';
import { getNormKernel, recordShape, type RecordShape } from '@clipwise/ghost-norm';
import { ClipwiseMemoryError } from '../errors';

/**
 * One tensor of the forward tape: `key` names its data buffer (tensors that share data share a key);
 * `bytes` is what TF.js's engine counts for the tensor (it counts every tensor, views and clones too).
 */
export interface TracedTensor {
  readonly key: number;
  readonly bytes: number;
}

/** One node of TF.js's gradient tape, as the memory model needs it (no tensors kept). */
export interface TracedNode {
  readonly kernel: string;
  /** Inputs that come from the anchor (the only ones the backward pass differentiates), by tensor id. */
  readonly inputs: readonly (TracedTensor & { readonly tensorId: number })[];
  readonly outputs: readonly (TracedTensor & { readonly tensorId: number })[];
  /** Tensors kept for its gradient; freed right after it runs (Clipwise's freeing backward). */
  readonly saved: readonly TracedTensor[];
  /** Index into `TapeTrace.records` for a DP-aware layer's node, else -1. */
  readonly record: number;
  /** False for nodes the backward pass prunes (not between the anchor and the loss). */
  readonly onPath: boolean;
  /**
   * Bytes the node's gradient function held above its inputs' gradients while it ran (TF.js's
   * own temporaries, measured in the trace; a DP-aware layer's record is counted apart).
   */
  readonly gradientExtraBytes: number;
}

/** One layer record, in backward order. */
export interface TracedRecord {
  readonly layer: string;
  readonly kind: LayerKind;
  /** Trainable parameters the record carries: role, name, size (scalars). */
  readonly params: readonly { readonly role: string; readonly name: string; readonly size: number }[];
  readonly shape: RecordShape;
  readonly activationBytes: number;
  readonly gradOutputBytes: number;
  /**
   * Per role: bytes the kernel's Book-Keeping clipped sum held above its result while it ran
   * (c ⊙ dy or c ⊙ a and the views it reshapes), measured in the trace.
   */
  readonly clipTempBytes: Readonly<Record<string, number>>;
  /**
   * Per role: the same for the non-private step's plain sum (`clippedSum` with no clip factors), which
   * may run other kernels (on webgpu the clipped sum folds the factors into a fused product, the plain
   * one is a matmul) and hold other temporaries.
   */
  readonly plainSumTempBytes: Readonly<Record<string, number>>;
  /**
   * Where the kernel adds onto a sum already formed (`clippedSumInto`: a tied weight's second use), per
   * role the bytes that held above the running sum while it did, clipped and plain; absent elsewhere.
   * On webgpu the add is in place: only the scaled dy; elsewhere the new sum and the total as well.
   */
  readonly clipIntoTempBytes?: Readonly<Record<string, number>>;
  readonly plainIntoTempBytes?: Readonly<Record<string, number>>;
}

/**
 * The memory-relevant facts of one recorded step at one batch size: the forward tape (what each op
 * saved for backward), the layer records in backward order, and the forward's memory timeline.
 * All byte counts are above what was allocated before the step (the weights, optimizer state), and
 * count as TF.js's engine does (`tf.memory().numBytes`): every tensor handle by its size, so a
 * saved clone or a reshaped view counts again although it shares its buffer.
 */
export interface TapeTrace {
  readonly batch: number;
  readonly nodes: readonly TracedNode[];
  readonly records: readonly TracedRecord[];
  /** Bytes after each kernel of the forward pass (the engine's count), forward order. */
  readonly forwardBytes: readonly number[];
  /** Bytes alive when the forward pass returned, before its temporaries were freed. */
  readonly forwardEndBytes: number;
  /**
   * Bytes after each kernel the step runs on the per-sample losses before backward (their sum),
   * while the forward's temporaries are still alive; a phase probe counts them as backward.
   */
  readonly lossBytes: readonly number[];
}

interface EngineTapeState {
  state: {
    activeTape: Array<{
      kernelName: string;
      inputs: Record<string, tf.Tensor>;
      outputs: tf.Tensor[];
      saved?: tf.Tensor[];
      gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
    }> | null;
    activeProfile: { kernels: Array<{ totalBytesSnapshot: number }> };
  };
}

function bytesOf(t: tf.Tensor): number {
  return t.size * (t.dtype === 'bool' ? 1 : t.dtype === 'complex64' ? 8 : 4);
}

/**
 * Runs one recorded forward + backward of `perSampleLoss` (a [B] per-sample loss) and returns its
 * `TapeTrace`. Reads TF.js's tape (engine internals, tfjs-core 4.x) at the end of the forward pass
 * and measures, as backward runs, each gradient function's temporaries and each record's
 * clipped-sum temporaries; records are then freed. Run it at a small batch and scale with `scaleTrace`.
 * `onProgress(done, total)` follows the backward pass in tape nodes (a large model's trace takes
 * seconds): once when the forward pass is recorded, after each gradient function, and at the end.
 *
 * @example
 * const t1 = await traceTape(() => model.perSampleLoss(ids1));
 */
export async function traceTape(perSampleLoss: () => tf.Tensor, options: { onProgress?: (done: number, total: number) => void } = {}): Promise<TapeTrace> {
  const engine = tf.engine() as unknown as EngineTapeState;
  const keys = new WeakMap<object, number>();
  let nextKey = 0;
  const key = (t: tf.Tensor): number => {
    let k = keys.get(t.dataId);
    if (k === undefined) keys.set(t.dataId, (k = nextKey++));
    return k;
  };
  let nodes: Array<Omit<RawNode, 'gradientExtraBytes'>> = [];
  let extras: number[] = [];
  // kernels of the trace's own measurements inside a gradient function (the clipped sums run on each
  // record's arrival): not the gradient's temporaries, and the step runs them as events of their own
  const measuring: Array<[number, number]> = [];
  const measured = <T>(run: () => T): T => {
    const start = engine.state.activeProfile.kernels.length;
    try {
      return run();
    } finally {
      measuring.push([start, engine.state.activeProfile.kernels.length]);
    }
  };
  let anchorId = -1;
  let forwardKernels = 0;
  let lossKernels = 0;
  let batch = 0;
  const records: TracedRecord[] = [];
  const base = tf.memory().numBytes;
  const profile = await tf.profile(() => {
    const { loss } = recordedBackward(
      () => {
        const l = perSampleLoss();
        forwardKernels = engine.state.activeProfile.kernels.length;
        if (l.rank !== 1) throw new ClipwiseMemoryError(`traceTape: perSampleLoss must return [B], got [${l.shape}]`);
        batch = l.shape[0]!;
        const y = tf.sum(l) as tf.Scalar;
        lossKernels = engine.state.activeProfile.kernels.length;
        // metadata only: the tensors themselves are freed by the backward pass
        nodes = (engine.state.activeTape ?? []).map((n) => ({
          kernel: n.kernelName,
          inputs: Object.values(n.inputs).map((t) => ({ tensorId: t.id, key: key(t), bytes: bytesOf(t) })),
          outputs: n.outputs.map((t) => ({ tensorId: t.id, key: key(t), bytes: bytesOf(t) })),
          saved: (n.saved ?? []).map((t) => ({ key: key(t), bytes: bytesOf(t) })),
        }));
        extras = measureGradientTemporaries(engine, measuring, options.onProgress);
        return y;
      },
      {
        onRecord(record, scope) {
          try {
            anchorId = scope.anchor.id;
            const a = record.activation;
            const params = Object.entries(record.params).filter(([, p]) => p.variable.trainable);
            records.push({
              layer: record.layer,
              kind: record.kind,
              params: params.map(([role, p]) => ({ role, name: p.name, size: p.size })),
              shape: recordShape(record),
              activationBytes: a ? bytesOf(a) : 0,
              gradOutputBytes: bytesOf(record.gradOutput),
              clipTempBytes: measured(() => clippedSumTemporaries(engine, record, params.map(([role]) => role), true)),
              plainSumTempBytes: measured(() => clippedSumTemporaries(engine, record, params.map(([role]) => role), false)),
              ...(getNormKernel(record.kind).clippedSumInto
                ? {
                    clipIntoTempBytes: measured(() => clippedSumTemporaries(engine, record, params.map(([role]) => role), true, true)),
                    plainIntoTempBytes: measured(() => clippedSumTemporaries(engine, record, params.map(([role]) => role), false, true)),
                  }
                : {}),
            });
          } finally {
            disposeRecord(record);
          }
        },
      },
    );
    loss.dispose();
  });
  options.onProgress?.(nodes.length, nodes.length);
  const snapshots = profile.kernels.map((k) => k.totalBytesSnapshot - base);
  return assembleTrace(nodes.map((n, i) => ({ ...n, gradientExtraBytes: extras[i]! })), records, anchorId, batch, snapshots.slice(0, forwardKernels), snapshots.slice(forwardKernels, lossKernels));
}

type RawNode = Omit<TracedNode, 'record' | 'onPath'>;

/**
 * Runs the kernel's clipped sum per role, with clip factors 1 (`clipped`, as the private step sums) or
 * none (as the non-private step sums), and notes the bytes it held above its result. With `into`, the
 * kernel's `clippedSumInto` onto a zero sum made first: the bytes held above that sum.
 */
function clippedSumTemporaries(engine: EngineTapeState, record: LayerRecord, roles: readonly string[], clipped: boolean, into = false): Record<string, number> {
  const kernel = getNormKernel(record.kind);
  const ones = clipped ? (tf.ones([record.gradOutput.shape[0]!]) as tf.Tensor1D) : null;
  const out: Record<string, number> = {};
  for (const role of roles) {
    const running = into ? tf.fill(record.params[role]!.shape as number[], 0) : null;
    const start = engine.state.activeProfile.kernels.length;
    const before = tf.memory().numBytes;
    const sums = running ? kernel.clippedSumInto!(record, ones, [role], { [role]: running }) : kernel.clippedSum(record, ones, [role]);
    const kernels = engine.state.activeProfile.kernels;
    let peak = before;
    for (let k = start; k < kernels.length; k++) peak = Math.max(peak, kernels[k]!.totalBytesSnapshot);
    out[role] = Math.max(0, peak - before - (running ? 0 : bytesOf(sums[role]!)));
    tf.dispose(Object.values(sums));
  }
  ones?.dispose();
  return out;
}

/**
 * Wraps the gradient function of every node on the running tape so that, when the backward pass
 * runs it, the largest engine byte count seen during it (the profile's snapshot after each kernel)
 * is noted above the count at its start and the input gradients it returned. Trace-only
 * instrumentation of engine internals: the wrapped tape is freed by the same backward pass.
 */
function measureGradientTemporaries(engine: EngineTapeState, skip: ReadonlyArray<readonly [number, number]>, onProgress?: (done: number, total: number) => void): number[] {
  const tape = engine.state.activeTape ?? [];
  const extras = tape.map(() => 0);
  let visited = 0;
  onProgress?.(0, tape.length);
  tape.forEach((node, i) => {
    const gradient = node.gradient;
    if (!gradient) return;
    node.gradient = (dys) => {
      // backward may skip nodes off the loss's path: the count ends below the total until the end
      onProgress?.(++visited, tape.length);
      const start = engine.state.activeProfile.kernels.length;
      const before = tf.memory().numBytes;
      const thunks = gradient(dys);
      let made = 0;
      const wrapped: Record<string, () => tf.Tensor> = {};
      for (const [name, thunk] of Object.entries(thunks)) {
        wrapped[name] = () => {
          const dx = thunk();
          made += bytesOf(dx);
          const kernels = engine.state.activeProfile.kernels;
          let peak = before;
          for (let k = start; k < kernels.length; k++) {
            if (!skip.some(([s, e]) => k >= s && k < e)) peak = Math.max(peak, kernels[k]!.totalBytesSnapshot);
          }
          extras[i] = Math.max(extras[i]!, peak - before - made);
          return dx;
        };
      }
      return wrapped;
    };
  });
  return extras;
}

/**
 * Marks the nodes the backward pass visits (as core's `filterTape`: reached from the anchor and
 * leading to the loss, the last node's output) and ties each DP-aware layer's node to its record
 * (records arrive in backward order, i.e. reverse tape order).
 */
function assembleTrace(raw: RawNode[], records: TracedRecord[], anchorId: number, batch: number, forwardBytes: number[], lossBytes: number[]): TapeTrace {
  if (raw.length === 0 || records.length === 0) {
    throw new ClipwiseMemoryError('traceTape: the step recorded no DP-aware layer; build the model from Clipwise layers');
  }
  const fromAnchor = new Set<number>([anchorId]);
  const reached = raw.map((n) => {
    const hit = n.inputs.some((t) => fromAnchor.has(t.tensorId));
    if (hit) for (const o of n.outputs) fromAnchor.add(o.tensorId);
    return hit;
  });
  const leadsToY = new Set<number>(raw[raw.length - 1]!.outputs.map((o) => o.tensorId));
  const toY = new Array<boolean>(raw.length).fill(false);
  for (let i = raw.length - 1; i >= 0; i--) {
    if (raw[i]!.outputs.some((o) => leadsToY.has(o.tensorId))) {
      toY[i] = true;
      for (const t of raw[i]!.inputs) leadsToY.add(t.tensorId);
    }
  }
  let next = 0;
  const assigned = new Array<number>(raw.length).fill(-1);
  for (let i = raw.length - 1; i >= 0; i--) {
    if (reached[i] && toY[i] && raw[i]!.inputs.some((t) => t.tensorId === anchorId)) assigned[i] = next++;
  }
  if (next !== records.length) {
    throw new ClipwiseMemoryError(`traceTape: ${next} DP-aware layer nodes on the tape but ${records.length} records; is a layer applied outside the loss?`);
  }
  const nodes = raw.map((n, i) => ({
    ...n,
    // a DP-aware layer's gradient made its record (then freed by the trace's recorder): the model holds records apart
    gradientExtraBytes:
      assigned[i]! >= 0 ? Math.max(0, n.gradientExtraBytes - records[assigned[i]!]!.activationBytes - records[assigned[i]!]!.gradOutputBytes) : n.gradientExtraBytes,
    inputs: n.inputs.filter((t) => fromAnchor.has(t.tensorId) && t.tensorId !== anchorId),
    record: assigned[i]!,
    onPath: reached[i]! && toY[i]!,
  }));
  return { batch, nodes, records, forwardBytes, forwardEndBytes: forwardBytes[forwardBytes.length - 1] ?? 0, lossBytes };
}
