import * as tf from '@tensorflow/tfjs-core';
import { Embedding, LayerNorm, Linear, PositionalEmbedding, collectParams, normalInit, type DPLayer, type ParamSpec } from '@clipwise/core';
import type { PrivateGradients } from '../src/private/private-gradients';

/**
 * A tiny language model with every layer kind of a GPT-2 block except attention (which has no
 * parameters): tied token embedding + LM head, learned positions, layernorms, an MLP.
 */
export class TinyLm {
  readonly wte: Embedding;
  readonly wpe: PositionalEmbedding;
  readonly ln1: LayerNorm;
  readonly fc: Linear;
  readonly proj: Linear;
  readonly lnF: LayerNorm;
  readonly head: Linear;
  readonly params: ParamSpec[];

  constructor(readonly vocab = 11, readonly d = 8, prefix = 'tiny', devices = false) {
    const dev = (name: string) => (devices ? { device: name } : {});
    // seeded weights: tests that depend on where norms fall (quantile tracking) must not flake
    this.wte = new Embedding({ name: `${prefix}.wte`, numEmbeddings: vocab, dim: d, init: normalInit(0.02, 101), ...dev('gpu0') });
    this.wpe = new PositionalEmbedding({ name: `${prefix}.wpe`, maxPositions: 16, dim: d, init: normalInit(0.02, 102), ...dev('gpu0') });
    this.ln1 = new LayerNorm({ name: `${prefix}.ln_1`, dim: d, ...dev('gpu0') });
    this.fc = new Linear({ name: `${prefix}.c_fc`, inFeatures: d, outFeatures: 2 * d, layout: 'in_out', weightInit: normalInit(0.02, 103), biasInit: (s) => tf.randomNormal(s, 0, 0.1, 'float32', 104), ...dev('gpu1') });
    this.proj = new Linear({ name: `${prefix}.c_proj`, inFeatures: 2 * d, outFeatures: d, layout: 'in_out', weightInit: normalInit(0.02, 105), ...dev('gpu1') });
    this.lnF = new LayerNorm({ name: `${prefix}.ln_f`, dim: d, ...dev('gpu1') });
    this.head = new Linear({ name: `${prefix}.lm_head`, inFeatures: d, outFeatures: vocab, bias: false, layout: 'out_in', tiedWeight: this.wte.weight });
    this.params = collectParams(this.layers);
  }

  get layers(): DPLayer[] {
    return [this.wte, this.wpe, this.ln1, this.fc, this.proj, this.lnF, this.head];
  }

  /** Per-sample loss [B]: summed next-token cross-entropy of each sequence. */
  perSampleLoss(ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      let h = this.wpe.apply(this.wte.apply(ids));
      h = tf.add(h, this.proj.apply(tf.tanh(this.fc.apply(this.ln1.apply(h)))));
      const logits = this.head.apply(this.lnF.apply(h));
      const logp = tf.logSoftmax(logits);
      const picked = tf.sum(tf.mul(logp, tf.oneHot(targets, this.vocab)), -1);
      return tf.neg(tf.sum(picked, 1)) as tf.Tensor1D;
    });
  }

  dispose(): void {
    this.layers.forEach((l) => l.dispose());
  }
}

/** A deterministic batch of random token sequences. */
export function tokenBatch(b: number, t: number, vocab: number, seed: number): { ids: tf.Tensor2D; targets: tf.Tensor2D } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const ids = Array.from({ length: b * t }, () => Math.floor(rnd() * vocab));
  const targets = Array.from({ length: b * t }, () => Math.floor(rnd() * vocab));
  return { ids: tf.tensor2d(ids, [b, t], 'int32'), targets: tf.tensor2d(targets, [b, t], 'int32') };
}

/** One private step of `model` (accumulate when a batch is given, then release) with the gradients read to the host and freed. */
export async function releaseStep(pg: PrivateGradients, model: TinyLm, ids?: tf.Tensor2D, targets?: tf.Tensor2D) {
  if (ids && targets) await pg.accumulate(() => model.perSampleLoss(ids, targets));
  const r = await pg.release();
  const grads = new Map(await Promise.all([...r.grads].map(async ([n, t]) => [n, (await t.data()) as Float32Array] as const)));
  tf.dispose([...r.grads.values()]);
  return { ...r, grads };
}
