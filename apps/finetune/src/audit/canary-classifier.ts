import * as tf from '@tensorflow/tfjs-core';
import { Linear, collectParams, normalInit, tokenNll, type ParamSpec } from '@clipwise/core';

export interface CanaryClassifierOptions {
  readonly features: number;
  readonly hidden: number;
  readonly canaries: number;
  readonly classes: number;
  readonly seed: number;
}

/**
 * The audited model: a two-layer classifier whose head also sees one input coordinate per canary,
 * logits = head([relu(hidden(x)), canary one-hot · CANARY_SCALE]). Built from Clipwise's DP-aware
 * `Linear` layers, so the audit exercises the same per-sample norms, grouping, clipping and noise
 * as any private run. Canary columns of the head start at zero; only canary i's gradient reaches
 * column i, which is what the white-box score reads.
 */
export class CanaryClassifier {
  /** A canary's input value: its gradient on its column is this × ‖dy‖, far above any sensible C, so clipping binds. */
  static readonly CANARY_SCALE = 100;
  readonly hiddenLayer: Linear;
  readonly head: Linear;
  readonly params: ParamSpec[];

  constructor(readonly options: CanaryClassifierOptions) {
    const { features, hidden, canaries, classes, seed } = options;
    this.hiddenLayer = new Linear({ name: 'hidden', inFeatures: features, outFeatures: hidden, weightInit: normalInit(1 / Math.sqrt(features), seed) });
    const init = normalInit(1 / Math.sqrt(hidden), seed + 1);
    this.head = new Linear({
      name: 'head',
      inFeatures: hidden + canaries,
      outFeatures: classes,
      // Real columns random, canary columns zero: a canary's column moves only by its own updates and noise.
      weightInit: (shape) => tf.tidy(() => tf.concat([init([classes, hidden]), tf.zeros([classes, canaries])], 1)),
    });
    this.params = collectParams([this.hiddenLayer, this.head]);
  }

  /** Per-sample cross-entropy [B] from real features [B, features], canary ids [B] (-1: none) and labels [B]. */
  perSampleLoss(x: tf.Tensor2D, canaryIds: Int32Array, labels: Int32Array): tf.Tensor1D {
    return tf.tidy(() => {
      const b = canaryIds.length;
      const m = this.options.canaries;
      const dirac = new Float32Array(b * m);
      canaryIds.forEach((id, row) => {
        if (id >= 0) dirac[row * m + id] = CanaryClassifier.CANARY_SCALE;
      });
      const h = tf.relu(this.hiddenLayer.apply(x));
      const logits = this.head.apply(tf.concat([h, tf.tensor2d(dirac, [b, m])], 1));
      return tokenNll(logits, tf.tensor1d(labels, 'int32')) as tf.Tensor1D;
    });
  }

  /** The head's canary columns [classes, canaries] as a float64 copy. */
  async canaryColumns(): Promise<Float64Array> {
    const { hidden, canaries, classes } = this.options;
    const cols = tf.slice(this.head.weight.variable, [0, hidden], [classes, canaries]);
    const data = Float64Array.from(await cols.data());
    cols.dispose();
    return data;
  }

  dispose(): void {
    this.hiddenLayer.dispose();
    this.head.dispose();
  }
}
