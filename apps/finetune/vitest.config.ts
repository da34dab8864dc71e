import { defineConfig } from 'vitest/config';
import { vitestPreset } from '../../tooling/config/vitest.preset.js';

const preset = vitestPreset();
// the group-wise study's tests (apps/finetune/study) run with the app's
export default defineConfig({ ...preset, test: { ...preset.test, include: [...preset.test.include, 'study/*.test.ts'] } });
