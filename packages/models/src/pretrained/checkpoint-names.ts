/**
 * How the tensors of a Hugging Face checkpoint map onto a model's parameters. Hub files come in two
 * spellings: with the task model's prefix (`transformer.h.0.ln_1.weight`, `vit.encoder...`, as
 * `save_pretrained` of `GPT2LMHeadModel` / `ViTForImageClassification` writes them) or without it
 * (`h.0.ln_1.weight`, `encoder...`: the original openai-community/gpt2 file, `ViTModel` checkpoints).
 * Both load, as in transformers.
 */
export interface CheckpointNaming {
  /** Parameter name -> tensor name in the file. */
  readonly fileName: (param: string) => string;
  /** The file's tensor names, as parameter names (for the comparison with the model). */
  readonly asParamName: (fileName: string) => string;
  /** Tensors the model deliberately does not load (buffers, a pooler, a replaced head). */
  readonly ignored: (param: string) => boolean;
}

/** GPT-2 causal-mask buffers older transformers versions saved; they are not parameters. */
const GPT2_BUFFER = /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/;

/**
 * The naming of a checkpoint holding `names`, for a model of `type`. `freshHead` (a ViT head
 * re-initialised with another label count) also ignores the file's `classifier.*`.
 */
export function checkpointNaming(type: 'gpt2' | 'vit', names: Iterable<string>, freshHead = false): CheckpointNaming {
  const all = new Set(names);
  if (type === 'gpt2') {
    const bare = all.has('wte.weight') && !all.has('transformer.wte.weight');
    return {
      fileName: (p) => (bare && p.startsWith('transformer.') ? p.slice('transformer.'.length) : p),
      asParamName: (f) => (bare && f !== 'lm_head.weight' ? `transformer.${f}` : f),
      // lm_head.weight is the tied embedding saved twice; it is checked against wte separately.
      ignored: (p) => GPT2_BUFFER.test(p) || p === 'lm_head.weight',
    };
  }
  const bare = all.has('embeddings.cls_token') && !all.has('vit.embeddings.cls_token');
  return {
    fileName: (p) => (bare && p.startsWith('vit.') ? p.slice('vit.'.length) : p),
    asParamName: (f) => (bare && !f.startsWith('classifier.') ? `vit.${f}` : f),
    // ViTForImageClassification has no pooler; a ViTModel checkpoint's pooler is unused, as in transformers.
    ignored: (p) => p.startsWith('vit.pooler.') || (freshHead && p.startsWith('classifier.')),
  };
}
