// The study's tests (and vite-node runs of its scripts): the app's settings, rooted in this folder so
// that only the study's own tests run.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { vitestPreset } from '../../../tooling/config/vitest.preset.js';

const preset = vitestPreset();
export default defineConfig({ ...preset, root: path.dirname(fileURLToPath(import.meta.url)), test: { ...preset.test, include: ['*.test.ts'] } });
