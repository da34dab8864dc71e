import * as tf from '@tensorflow/tfjs-core';
import { backward, type BackwardOptions } from '../backward/backward';
import { RecordingScope, withRecording, type Recorder } from './recording';

export interface RecordedBackwardResult {
  /** The loss `f()` returned. The caller owns it. */
  readonly loss: tf.Scalar;
  /** Parameter uses seen in forward. */
  readonly scope: RecordingScope;
}

/**
 * Runs `f` (the forward pass to a scalar loss) with DP-aware layers recording, then the
 * memory-freeing backward pass, during which `recorder` receives every layer's record.
 * Differentiates w.r.t. one scalar anchor that every recorded layer takes as input, so no weight
 * gradient is ever formed by TF.js autodiff.
 *
 * @example
 * const records: LayerRecord[] = [];
 * const { loss } = recordedBackward(() => model.loss(batch), { onRecord: (r) => records.push(r) });
 */
export function recordedBackward(f: () => tf.Scalar, recorder: Recorder, options: BackwardOptions = {}): RecordedBackwardResult {
  const anchor = tf.scalar(0);
  // TF.js's own pass accumulates (and frees) every gradient it is given: a shared zero only with ours
  const zero = options.mode === 'tfjs' ? null : tf.keep(tf.scalar(0));
  const scope = new RecordingScope(anchor, recorder, zero);
  try {
    const { value, grads } = backward(() => withRecording(scope, f), [anchor], { ...options, discard: [anchor] });
    tf.dispose(grads);
    return { loss: value, scope };
  } finally {
    anchor.dispose();
    zero?.dispose();
  }
}
