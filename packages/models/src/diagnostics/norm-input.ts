import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import type { Gpt2Model } from '../gpt2/gpt2-model.js';
import { modelTypeOf, type PretrainedModel } from '../pretrained/pretrained-model.js';
import type { VitModel } from '../vit/vit-model.js';

/** A batch of token sequences for GPT-2, all of the same length (≥ 2: position t predicts token t+1). */
export interface TextNormInput {
  readonly input_ids: ReadonlyArray<ReadonlyArray<number>>;
}

/** A batch of images for ViT: pixel values [B, C, H, W] (NCHW, normalised as the model expects) and class labels [B]. */
export interface ImageNormInput {
  readonly pixel_values: ReadonlyArray<ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>>;
  readonly labels: ReadonlyArray<number>;
}

/** The JSON-friendly input of `perSampleNorms`, shaped like a Hugging Face batch. */
export type NormInput = TextNormInput | ImageNormInput;

/** A validated batch as tensors, with the per-sample loss it defines. */
export interface PreparedBatch {
  readonly size: number;
  /** Per-sample loss [B] of the model on this batch. */
  perSampleLoss(): tf.Tensor1D;
  dispose(): void;
}

/**
 * Checks `input` against `model` and turns it into tensors. Every problem (wrong kind of input for
 * the model, ragged or empty batch, token id outside the vocabulary, pixel shape not matching the
 * config, label out of range, non-finite value) is a `ClipwiseModelError` naming the entry at fault.
 */
export function prepareBatch(model: PretrainedModel, input: NormInput): PreparedBatch {
  if (typeof input !== 'object' || input === null) {
    throw new ClipwiseModelError(`per-sample norms: input must be an object, got ${input === null ? 'null' : typeof input}`);
  }
  return modelTypeOf(model) === 'gpt2' ? prepareText(model as Gpt2Model, input) : prepareImages(model as VitModel, input);
}

function prepareText(model: Gpt2Model, input: NormInput): PreparedBatch {
  const rows = (input as TextNormInput).input_ids;
  if (!Array.isArray(rows)) {
    throw new ClipwiseModelError(`per-sample norms: a GPT-2 model needs { input_ids: number[][] }, got keys ${keysOf(input)}`);
  }
  const { vocab_size: vocab, n_positions: maxLen } = model.config;
  if (rows.length === 0) throw new ClipwiseModelError('per-sample norms: input_ids is empty; give at least one sequence');
  const t = Array.isArray(rows[0]) ? rows[0].length : -1;
  if (t < 2 || t > maxLen) {
    throw new ClipwiseModelError(
      `per-sample norms: input_ids[0] must be an array of 2 to ${maxLen} token ids (n_positions), got ${t < 0 ? typeof rows[0] : `${t} ids`}`,
    );
  }
  const ids = new Int32Array(rows.length * t);
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== t) {
      throw new ClipwiseModelError(
        `per-sample norms: input_ids[${i}] has ${Array.isArray(row) ? `${row.length} ids` : `type ${typeof row}`} but input_ids[0] has ${t}: ` +
          'ragged batches are not supported; give sequences of one length (truncate, or compute norms per length)',
      );
    }
    row.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new ClipwiseModelError(`per-sample norms: input_ids[${i}][${j}] = ${JSON.stringify(id)} is not a token id in [0, ${vocab}) (vocab_size)`);
      }
      ids[i * t + j] = id;
    });
  });
  const tensor = tf.tensor2d(ids, [rows.length, t], 'int32');
  return { size: rows.length, perSampleLoss: () => model.perSampleLoss(tensor), dispose: () => tensor.dispose() };
}

function prepareImages(model: VitModel, input: NormInput): PreparedBatch {
  const { pixel_values: pixels, labels } = input as ImageNormInput;
  if (!Array.isArray(pixels) || !Array.isArray(labels)) {
    throw new ClipwiseModelError(
      `per-sample norms: a ViT model needs { pixel_values: number[][][][], labels: number[] }, got keys ${keysOf(input)}`,
    );
  }
  const { num_channels: c, image_size: s, num_labels: classes } = model.config;
  const b = pixels.length;
  if (b === 0) throw new ClipwiseModelError('per-sample norms: pixel_values is empty; give at least one image');
  if (labels.length !== b) {
    throw new ClipwiseModelError(`per-sample norms: ${labels.length} labels for ${b} images; give one label per image`);
  }
  const expected = `[B, ${c}, ${s}, ${s}] (num_channels, image_size)`;
  const dims = [b, c, s, s];
  const values = new Float32Array(b * c * s * s);
  let k = 0;
  // Walks the nested arrays depth-first, checking each level's length against the config.
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === 4) {
      if (typeof node !== 'number' || !Number.isFinite(node)) {
        throw new ClipwiseModelError(`per-sample norms: pixel_values${path} = ${JSON.stringify(node)} is not a finite number`);
      }
      values[k++] = node;
      return;
    }
    if (!Array.isArray(node) || node.length !== dims[depth]) {
      throw new ClipwiseModelError(
        `per-sample norms: pixel_values${path} has ${Array.isArray(node) ? `length ${node.length}` : `type ${typeof node}`}, ` +
          `expected ${dims[depth]}: pixel_values must be ${expected}, i.e. [${dims.join(', ')}] here`,
      );
    }
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(pixels, 0, '');
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new ClipwiseModelError(`per-sample norms: labels[${i}] = ${JSON.stringify(y)} is not a class in [0, ${classes}) (num_labels)`);
    }
  });
  const x = tf.tensor4d(values, [b, c, s, s]);
  const y = tf.tensor1d(Int32Array.from(labels), 'int32');
  return { size: b, perSampleLoss: () => model.perSampleLoss(x, y), dispose: () => tf.dispose([x, y]) };
}

function keysOf(input: object): string {
  const keys = Object.keys(input);
  return keys.length ? keys.map((key) => `'${key}'`).join(', ') : '(none)';
}
