import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/config/tsup.preset.js';

// src/node.ts is the Node-only entry (`@clipwise/models/node`: files, folders). Splitting (CJS too) puts
// the code both entries share in one chunk, so `require` of each gives the same classes (instanceof
// Gpt2Model holds across them) and one GPT-2 BPE cache.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/node.ts'], splitting: true, shims: true }));
