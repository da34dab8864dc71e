import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { vitestPreset } from '../../tooling/config/vitest.preset.js';

const preset = vitestPreset({ timeoutMs: 240_000 }); // the browser test trains in Chromium: minutes on 2 cores
// the CLI's shared pieces from their sources too, like the packages (no build needed)
preset.resolve.alias = { '@clipwise/finetune/browser': path.resolve(__dirname, '../finetune/src/browser.ts'), ...preset.resolve.alias };

export default defineConfig(preset);
