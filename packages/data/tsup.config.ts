import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/config/tsup.preset.js';

// src/node.ts is the Node-only entry (`@clipwise/data/node`: files, folders, archives, image decoding).
// Splitting (CJS too) puts the code both entries share in one chunk, so each gives the same classes.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/node.ts'], splitting: true, shims: true }));
