import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/config/tsup.preset.js';

export default defineConfig(packageBuild());
