import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/config/tsup.preset.js';

// The library plus the `clipwise-accountant` bin (src/cli.ts keeps its #!/usr/bin/env node line).
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/cli.ts'] }));
