import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoraAdapter } from '@clipwise/core';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { writeFileAtomic } from '../io/write-file-atomic.js';
import type { PretrainedModel } from '../pretrained/pretrained-model.js';
import { adapterNumLabels, loadAdapterFromBytes, saveAdapterToBytes, type SavedAdapter } from './peft-adapter.js';

/** The file names of a peft adapter folder. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/**
 * Writes the model's LoRA adapters as a Hugging Face peft adapter folder (`adapter_config.json`,
 * `adapter_model.safetensors`; see `saveAdapterToBytes`), each file atomically. Node only.
 *
 * @example
 * import { saveAdapter, loadAdapter } from '@clipwise/models/node';
 * await saveAdapter(model, 'runs/lora/adapter');
 * await loadAdapter(await loadPretrained('gpt2-dir'), 'runs/lora/adapter');
 */
export async function saveAdapter(model: PretrainedModel, dir: string): Promise<void> {
  const { config, weights } = await saveAdapterToBytes(model);
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new ClipwiseModelError(`saveAdapter: cannot create ${dir}: ${(cause as Error).message}`, { cause });
  }
  await writeFileAtomic(join(dir, ADAPTER_WEIGHTS_FILE), weights);
  await writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), config);
}

/** Reads an adapter folder's two files. */
async function readAdapterFiles(dir: string): Promise<SavedAdapter> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name));
    } catch (cause) {
      throw new ClipwiseModelError(`loadAdapter: cannot read ${join(dir, name)}: ${(cause as Error).message}. An adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}`, { cause });
    }
  };
  const config = (await read(ADAPTER_CONFIG_FILE)).toString('utf8');
  const bytes = await read(ADAPTER_WEIGHTS_FILE);
  return { config, weights: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Uint8Array<ArrayBuffer> };
}

/**
 * Adds the LoRA adapter of a peft folder to `model` (base frozen; its `modules_to_save` replace the
 * model's modules and train); see `loadAdapterFromBytes`. Node only.
 */
export async function loadAdapter(model: PretrainedModel, dir: string): Promise<LoraAdapter[]> {
  return loadAdapterFromBytes(model, await readAdapterFiles(dir), dir);
}

/**
 * The class count of a peft folder's saved ViT head (`modules_to_save: ["classifier"]`), or
 * undefined; see `adapterNumLabels`. Node only.
 *
 * @example
 * const numLabels = await readAdapterNumLabels('runs/vit-lora/adapter');
 * const base = await loadPretrained('vit-dir', numLabels === undefined ? {} : { numLabels }); // the head's size
 * await loadAdapter(base, 'runs/vit-lora/adapter');
 */
export async function readAdapterNumLabels(dir: string): Promise<number | undefined> {
  return adapterNumLabels(await readAdapterFiles(dir), dir);
}
