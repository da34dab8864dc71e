import * as tf from '@tensorflow/tfjs-core';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';
import { loraAdapters } from './add-lora.js';
import { setModulesToSave } from './modules-to-save.js';

/**
 * Folds each LoRA adapter into its base weight, `W ← W + (α/r)·B A` (transposed for GPT-2's Conv1D
 * [in, out] layout, peft's fan_in_fan_out), then detaches and frees the adapters, as peft's
 * `merge_and_unload`. The model then computes what it computed with the adapters, in one matmul per
 * layer, and `savePretrained` writes a full checkpoint. Modules trained in full beside the adapters
 * (`modulesToSave`, peft's `modules_to_save`) are the model's own weights already, so the checkpoint
 * holds them; the model forgets that they were saved with the adapter. Trainability is left as it
 * was (the base stays frozen after `addLora`). Returns how many adapters were merged.
 *
 * @example
 * mergeLora(model);
 * await savePretrained(model, 'runs/merged'); // config.json + model.safetensors
 */
export function mergeLora(model: PretrainedModel): number {
  const adapters = loraAdapters(model);
  for (const a of adapters) {
    const w = a.base.weight.variable;
    tf.tidy(() => w.assign(tf.add(w, a.deltaWeight())));
    a.detach();
  }
  setModulesToSave(model, null);
  return adapters.length;
}
