import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { parseHfConfigText, type HfModelConfig } from './hf-config.js';

/** Reads and validates `<dir>/config.json`; every problem is a `ClipwiseModelError` naming the file and field. */
export async function readHfConfig(dir: string): Promise<HfModelConfig> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ClipwiseModelError(
      `cannot read ${path}: ${(cause as Error).message}. Fix: point at a Hugging Face model folder (config.json + model.safetensors).`,
      { cause },
    );
  }
  return parseHfConfigText(text, path);
}
