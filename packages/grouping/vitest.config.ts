import { defineConfig } from 'vitest/config';
import { vitestPreset } from '../../tooling/config/vitest.preset.js';

// Grouping is pure bookkeeping over names and shapes: it never touches a tensor, so tests skip TF.js set-up.
export default defineConfig(vitestPreset({ tfjs: false }));
