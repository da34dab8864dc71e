import { defineConfig } from 'tsup';

// cli: the `clipwise` program (bin/clipwise.js launches it); browser: `@clipwise/finetune/browser`, what
// the web example reuses. One build so the code both use lands in one shared chunk.
export default defineConfig({
  entry: { cli: 'src/cli.ts', browser: 'src/browser.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
