// `@clipwise/models/node`: everything in the main entry, plus what reads and writes files (Node only).
export * from './index.js';
export * from './safetensors/read-safetensors-file.js';
export * from './safetensors/write-safetensors.js';
export * from './pretrained/read-hf-config.js';
export * from './pretrained/load-pretrained.js';
export * from './pretrained/save-pretrained.js';
export * from './io/write-file-atomic.js';
export * from './peft/save-adapter.js';
