// The main entry runs in browsers and Node alike: it imports no Node built-in (a test bundles it with
// esbuild for the browser). File-system code lives in ./node.ts (`@clipwise/models/node`).
export * from './clipwise-model-error.js';
export * from './safetensors/dtype.js';
export * from './safetensors/tensor.js';
export * from './safetensors/header.js';
export * from './safetensors/read-safetensors-buffer.js';
export * from './safetensors/serialize-safetensors.js';
export * from './safetensors/check-checkpoint.js';
export * from './tokenizer/tokenizer.js';
export * from './tokenizer/gpt2-tokenizer.js';
export * from './tokenizer/byte-tokenizer.js';
export * from './common/activations.js';
export * from './common/attention.js';
export * from './common/losses.js';
export * from './gpt2/gpt2-config.js';
export * from './gpt2/gpt2-model.js';
export * from './vit/vit-config.js';
export * from './vit/vit-model.js';
export * from './pretrained/pretrained-model.js';
export * from './pretrained/hf-config.js';
export * from './pretrained/hf-config-of.js';
export type { LoadPretrainedOptions } from './pretrained/load-weights.js';
export * from './pretrained/load-pretrained-from-bytes.js';
export { savePretrainedToBytes, type SavedPretrained } from './pretrained/save-pretrained-to-bytes.js';
export type { NormInput, TextNormInput, ImageNormInput } from './diagnostics/norm-input.js';
export * from './diagnostics/per-sample-norms.js';
export * from './diagnostics/format-norm-table.js';
export * from './tokenizer/word-tokenizer.js';
