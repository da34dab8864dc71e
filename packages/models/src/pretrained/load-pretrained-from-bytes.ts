import { ClipwiseModelError } from '../clipwise-model-error.js';
import { SafetensorsBuffer } from '../safetensors/read-safetensors-buffer.js';
import { parseHfConfig, parseHfConfigText } from './hf-config.js';
import { loadPretrainedWeights, type LoadPretrainedOptions } from './load-weights.js';
import type { PretrainedModel } from './pretrained-model.js';

/** Bytes as a browser or Node hands them over: an `ArrayBuffer`, a typed array, a `Blob`/`File`, a `fetch` `Response`. */
export type BytesInput = ArrayBuffer | ArrayBufferView | Blob | Response;

/** A Hugging Face model folder's two files, held in memory. */
export interface PretrainedBytes {
  /** `config.json`: its bytes or text, or the parsed object. */
  readonly config: BytesInput | string | Record<string, unknown>;
  /** `model.safetensors`. */
  readonly weights: BytesInput;
  /** Names the model in error messages (a URL, a file name); default `'<bytes>'`. */
  readonly source?: string;
}

/**
 * Loads a GPT-2 or ViT from the bytes of a Hugging Face model folder (`config.json` +
 * `model.safetensors`), with the checks and tolerances of `loadPretrained` (`@clipwise/models/node`,
 * which reads a folder on disk). Works in browsers and Node alike; the whole checkpoint is held in memory.
 *
 * @example
 * ```ts
 * import { loadPretrainedFromBytes } from '@clipwise/models';
 * const model = await loadPretrainedFromBytes({
 *   config: await fetch('/gpt2/config.json'),
 *   weights: await fetch('/gpt2/model.safetensors'),
 * });
 * // or from an <input type="file" multiple>: { config: files[0], weights: files[1] }
 * ```
 */
export async function loadPretrainedFromBytes(input: PretrainedBytes, options: LoadPretrainedOptions = {}): Promise<PretrainedModel> {
  const source = input.source ?? '<bytes>';
  const hf = await configOf(input.config, `${source}/config.json`);
  const file = SafetensorsBuffer.open(await bytesOf(input.weights, `${source}/model.safetensors`), `${source}/model.safetensors`);
  return loadPretrainedWeights(hf, file, options, source);
}

async function configOf(config: PretrainedBytes['config'], source: string) {
  if (typeof config === 'string') return parseHfConfigText(config, source);
  if (isBytesInput(config)) return parseHfConfigText(new TextDecoder().decode(await bytesOf(config, source)), source);
  return parseHfConfig(config, source);
}

function isBytesInput(x: unknown): x is BytesInput {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x) || typeof (x as Blob).arrayBuffer === 'function';
}

/** The bytes of `input` as a `Uint8Array` (a view where it already is one, no copy). */
async function bytesOf(input: BytesInput, source: string): Promise<Uint8Array> {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (typeof (input as Response).ok === 'boolean' && !(input as Response).ok) {
    const r = input as Response;
    throw new ClipwiseModelError(`${source}: the fetch response is ${r.status} ${r.statusText} (${r.url}). Fix: check the URL.`);
  }
  if (typeof input?.arrayBuffer !== 'function') {
    throw new ClipwiseModelError(`${source}: expected an ArrayBuffer, typed array, Blob/File or fetch Response, got ${describe(input)}`);
  }
  return new Uint8Array(await input.arrayBuffer());
}

function describe(x: unknown): string {
  return x === null ? 'null' : typeof x === 'object' ? ((x as object).constructor?.name ?? 'an object') : typeof x;
}
