import { Gpt2Model } from '../gpt2/gpt2-model.js';
import type { Gpt2Config } from '../gpt2/gpt2-config.js';
import { VitModel } from '../vit/vit-model.js';
import type { ResolvedVitConfig } from '../vit/vit-config.js';
import { modelTypeOf, type PretrainedModel } from './pretrained-model.js';

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
