import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { openSafetensors, type SafetensorsFile } from '../safetensors/read-safetensors-file.js';
import { loadPretrainedWeights, type LoadPretrainedOptions } from './load-weights.js';
import type { PretrainedModel } from './pretrained-model.js';
import { readHfConfig } from './read-hf-config.js';

/**
 * Loads a Hugging Face model folder (`config.json` + `model.safetensors`, as `save_pretrained`
 * writes it or as downloaded from the hub) into a GPT-2 or ViT on DP-aware layers. The family comes
 * from `model_type` ('gpt2' | 'vit') or `architectures`. The checkpoint must hold exactly the
 * model's parameters: a missing, unexpected or mis-shaped tensor is refused with a
 * `CheckpointMismatchError` naming every one. Tolerated, as in transformers: GPT-2 names without
 * the `transformer.` prefix, its `attn.bias`/`attn.masked_bias` buffers, an `lm_head.weight` equal to
 * the tied `wte` (a different one is refused); a ViT pooler. F16/BF16/F64 tensors become float32.
 *
 * Node only (`@clipwise/models/node`); from bytes, on any platform: `loadPretrainedFromBytes`.
 *
 * @example
 * import { loadPretrained } from '@clipwise/models/node';
 * const model = await loadPretrained('models/gpt2'); // Gpt2Model
 * const vit = await loadPretrained('models/vit-base-patch16-224', { numLabels: 10 }); // fresh 10-class head
 * if (vit instanceof VitModel) console.log(vit.config.num_labels); // 10
 */
export async function loadPretrained(dir: string, options: LoadPretrainedOptions = {}): Promise<PretrainedModel> {
  const hf = await readHfConfig(dir);
  return loadPretrainedWeights(hf, await openCheckpoint(dir), options, dir);
}

async function openCheckpoint(dir: string): Promise<SafetensorsFile> {
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path)) {
    const sharded = existsSync(join(dir, 'model.safetensors.index.json'));
    const torchOnly = existsSync(join(dir, 'pytorch_model.bin'));
    throw new ClipwiseModelError(
      `${path} not found` +
        (sharded
          ? ': sharded checkpoints are not supported; re-save with save_pretrained(dir, max_shard_size="100GB", safe_serialization=True)'
          : torchOnly
            ? ': only pytorch_model.bin is there; convert it with save_pretrained(dir, safe_serialization=True)'
            : '. Fix: point at a Hugging Face model folder (config.json + model.safetensors).'),
    );
  }
  return openSafetensors(path);
}
