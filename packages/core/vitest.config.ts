import { defineConfig } from 'vitest/config';
import { vitestPreset } from '../../tooling/config/vitest.preset.js';

export default defineConfig(vitestPreset());
