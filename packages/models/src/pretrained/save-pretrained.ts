import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { writeFileAtomic } from '../io/write-file-atomic.js';
import { writeSafetensors } from '../safetensors/write-safetensors.js';
import { hfConfigOf } from './hf-config-of.js';
import type { PretrainedModel } from './pretrained-model.js';
import { modelTensors } from './save-pretrained-to-bytes.js';

/**
 * Writes a model as a Hugging Face model folder: `config.json` and `model.safetensors` (float32,
 * hub parameter names; GPT-2's tied embedding once, under `transformer.wte.weight`, as
 * transformers' `save_pretrained` does). transformers' `from_pretrained(dir)` and `loadPretrained`
 * read it back (checked with transformers 5.17: head tied, logits equal to 1e-7). Each file is
 * written atomically (temporary file, fsync, rename); `dir` is created if needed.
 *
 * Node only (`@clipwise/models/node`); in memory, on any platform: `savePretrainedToBytes`.
 *
 * @example
 * import { savePretrained, loadPretrained } from '@clipwise/models/node';
 * await savePretrained(model, 'runs/dp-gpt2/final');
 * const again = await loadPretrained('runs/dp-gpt2/final');
 */
export async function savePretrained(model: PretrainedModel, dir: string): Promise<void> {
  const config = hfConfigOf(model);
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new ClipwiseModelError(`savePretrained: cannot create ${dir}: ${(cause as Error).message}`, { cause });
  }
  await writeSafetensors(join(dir, 'model.safetensors'), await modelTensors(model), { format: 'pt' });
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}
