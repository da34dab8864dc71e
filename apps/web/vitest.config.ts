import { defineConfig } from 'vitest/config';
import { vitestPreset } from '../../tooling/config/vitest.preset.js';

// The browser test builds the page and trains in Chromium: minutes on a 2-core machine, not seconds.
export default defineConfig(vitestPreset({ timeoutMs: 240_000 }));
