import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { writeFileAtomic } from '../io/write-file-atomic.js';
import type { SafetensorsTensorInput } from '../safetensors/tensor.js';
import { writeSafetensors } from '../safetensors/write-safetensors.js';
import { Gpt2Model } from '../gpt2/gpt2-model.js';
import type { Gpt2Config } from '../gpt2/gpt2-config.js';
import { VitModel } from '../vit/vit-model.js';
import type { ResolvedVitConfig } from '../vit/vit-config.js';
import { modelTypeOf, type PretrainedModel } from './pretrained-model.js';

/**
 * Writes a model as a Hugging Face model folder: `config.json` and `model.safetensors` (float32,
 * hub parameter names; GPT-2's tied embedding once, under `transformer.wte.weight`, as
 * transformers' `save_pretrained` does). transformers' `from_pretrained(dir)` and `loadPretrained`
 * read it back (checked with transformers 5.17: head tied, logits equal to 1e-7). Each file is
 * written atomically (temporary file, fsync, rename); `dir` is created if needed.
 *
 * @example
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
  const tensors: Record<string, SafetensorsTensorInput> = {};
  for (const p of model.params) tensors[p.name] = { dtype: 'F32', shape: p.shape, data: (await p.variable.data()) as Float32Array };
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/** The `config.json` transformers needs to rebuild `model`; other fields of a loaded hub config are kept. */
export function hfConfigOf(model: PretrainedModel): Record<string, unknown> {
  if (model instanceof Gpt2Model) {
    const c = model.config as Gpt2Config & Record<string, unknown>;
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      ...c,
      activation_function: c['activation_function'] ?? 'gelu_new',
      layer_norm_epsilon: c.layer_norm_epsilon ?? 1e-5,
      // transformers defaults both to 50256 and warns when that is outside a smaller vocabulary; the
      // last id is the end-of-text token of GPT-2's BPE (50256) and of the byte tokenizer (256) alike.
      bos_token_id: c['bos_token_id'] ?? c.vocab_size - 1,
      eos_token_id: c['eos_token_id'] ?? c.vocab_size - 1,
      tie_word_embeddings: true,
      torch_dtype: 'float32',
    };
  }
  if (!(model instanceof VitModel)) modelTypeOf(model); // throws, naming what it got
  const { num_labels: n, id2label, label2id: _inverse, ...c } = model.config as ResolvedVitConfig & { label2id?: unknown };
  // transformers derives num_labels from id2label (a num_labels field that disagrees only warns), so write id2label.
  const labels =
    id2label && Object.keys(id2label).length === n ? id2label : Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `LABEL_${i}`]));
  return {
    architectures: ['ViTForImageClassification'],
    model_type: 'vit',
    ...c,
    hidden_act: 'gelu',
    layer_norm_eps: c.layer_norm_eps ?? 1e-12,
    qkv_bias: c.qkv_bias ?? true,
    id2label: labels,
    label2id: Object.fromEntries(Object.entries(labels).map(([i, name]) => [name, Number(i)])),
    torch_dtype: 'float32',
  };
}

