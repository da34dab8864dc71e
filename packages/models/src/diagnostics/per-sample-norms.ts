import * as tf from '@tensorflow/tfjs-core';
import { disposeRecord, readAll, recordedBackward } from '@clipwise/core';
import { StreamingSqNorms, type FoldResult } from '@clipwise/ghost-norm';
import { resolveGrouping, type GroupingSpec } from '@clipwise/grouping';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';
import { loraModulesToSave } from '../peft/modules-to-save.js';
import { peftSavedName } from '../peft/peft-adapter.js';
import { prepareBatch, type NormInput } from './norm-input.js';

export interface PerSampleNormsOptions {
  /** A grouping spec (`'layer-wise'`, `'uniform:4'`, ...; see `@clipwise/grouping`): also report per-group norms. */
  readonly grouping?: GroupingSpec;
  /** Overall clipping norm C, to report each group's threshold C_m (default split C/√M). Default 1. */
  readonly clipNorm?: number;
}

/** Per-sample losses and gradient norms of one batch, keyed like a Hugging Face state dict. */
export interface PerSampleNormsResult {
  /** l_i: GPT-2, mean next-token cross-entropy of sequence i; ViT, cross-entropy of image i. */
  readonly loss_per_sample: number[];
  /**
   * ‖∇_θ l_i‖ for each trainable parameter θ (`model.trainableParams`: frozen ones left out), by hub
   * name, in forward order (a tied weight once, both uses summed). With LoRA, every name is peft's:
   * A/B as `base_model.model.<module>.lora_A.weight`, modules to save as `base_model.model.classifier.weight`.
   */
  readonly per_sample_param_norms: Record<string, number[]>;
  /** sqrt(Σ_{θ in group} ‖∇_θ l_i‖²) for each group, when a grouping was given. */
  readonly per_sample_group_norms?: Record<string, number[]>;
  /** Each group's clipping threshold C_m, when a grouping was given. */
  readonly group_thresholds?: Record<string, number>;
}

/**
 * Per-sample gradient norms of every trainable parameter (and group) of a model on one batch, computed the way
 * the private step computes them: one recorded backward pass, then the ghost-norm kernels on each
 * layer's `(a, dy)` record (Li et al. 2022, ghost clipping; Bu et al. 2023, mixed rule) — no
 * per-sample gradient is formed. A parameter used twice (GPT-2's embedding tied to its LM head) gets
 * ‖g_A + g_B‖² = ‖g_A‖² + ‖g_B‖² + 2⟨g_A, g_B⟩, the cross term also by a ghost formula. Records are
 * freed as soon as no cross term needs them. Use it to choose clipping thresholds and groupings.
 *
 * @param model a `Gpt2Model` or `VitModel`
 * @param input `{ input_ids }` for GPT-2, `{ pixel_values, labels }` for ViT (validated: a bad entry is a `ClipwiseModelError` naming it)
 * @example
 * const model = new Gpt2Model(GPT2_PRESETS['gpt2-tiny']);
 * const norms = await perSampleNorms(model, { input_ids: [[1, 2, 3, 4], [5, 6, 7, 8]] }, { grouping: 'layer-wise', clipNorm: 1 });
 * console.log(formatNormTable(norms));
 */
export async function perSampleNorms(model: PretrainedModel, input: NormInput, options: PerSampleNormsOptions = {}): Promise<PerSampleNormsResult> {
  // Resolve the grouping first: a bad spec fails before any tensor work.
  const grouping = options.grouping === undefined ? undefined : resolveGrouping(options.grouping, model.trainableParams, { clipNorm: options.clipNorm ?? 1 });
  const batch = prepareBatch(model, input);
  // squared norms accumulate on the device; one asynchronous read at the end (webgpu cannot read synchronously)
  const sqNorms = new Map<string, tf.Tensor1D>();
  const folder = new StreamingSqNorms();
  // each parameter's norm as its last use arrives; records freed as soon as no cross term needs them
  const take = ({ complete, released }: FoldResult) => {
    for (const p of complete) sqNorms.set(p.name, p.sqNorms);
    released.forEach(disposeRecord);
  };
  let losses: tf.Tensor | undefined;
  let read: { losses: Float32Array; sq: Map<string, Float32Array> };
  try {
    const { loss } = recordedBackward(
      () => {
        const perSample = batch.perSampleLoss();
        losses = tf.keep(perSample);
        return tf.sum(perSample) as tf.Scalar;
      },
      {
        onRecord: (record, scope) => {
          try {
            take(folder.fold(record, scope));
          } catch (e) {
            if (!folder.needs(record)) disposeRecord(record);
            throw e;
          }
        },
      },
    );
    loss.dispose();
    take(folder.finish()); // uses that never reached the loss
    const names = model.trainableParams.map((p) => p.name);
    // one device read for the losses and every parameter's norms
    const used = names.filter((n) => sqNorms.has(n));
    const [lossValues, ...values] = await readAll([losses!, ...used.map((n) => sqNorms.get(n)!)]);
    const byName = new Map(used.map((n, i) => [n, values[i]!]));
    read = { losses: lossValues!, sq: new Map(names.map((n) => [n, byName.get(n) ?? new Float32Array(batch.size)])) };
  } finally {
    folder.dispose().forEach(disposeRecord); // after an error
    batch.dispose();
    losses?.dispose();
    tf.dispose([...sqNorms.values()]);
  }
  const perParam: Record<string, number[]> = {};
  const saved = new Set(loraModulesToSave(model)?.params.map((p) => p.name));
  for (const [name, sq] of read.sq) perParam[saved.has(name) ? peftSavedName(name) : name] = Array.from(sq, (v) => Math.sqrt(Math.max(v, 0)));
  const result: PerSampleNormsResult = { loss_per_sample: Array.from(read.losses), per_sample_param_norms: perParam };
  if (!grouping) return result;
  const perGroup: Record<string, number[]> = {};
  const thresholds: Record<string, number> = {};
  for (const group of grouping.groups) {
    perGroup[group.name] = Array.from({ length: batch.size }, (_, i) => Math.sqrt(Math.max(0, group.params.reduce((s, name) => s + read.sq.get(name)![i]!, 0))));
    thresholds[group.name] = group.threshold;
  }
  return { ...result, per_sample_group_norms: perGroup, group_thresholds: thresholds };
}
