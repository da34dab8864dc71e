import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { vitestPreset } from '../../../tooling/config/vitest.preset.js';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the page into `outDir` with apps/web's vite.config.ts, the workspace packages (and
 * `@clipwise/finetune/browser`) taken from their sources as in every test here, so it needs no
 * `npm run build` first and always tests the current code.
 */
export async function buildPage(outDir: string): Promise<void> {
  await build({
    root: appDir,
    configFile: path.join(appDir, 'vite.config.ts'),
    logLevel: 'error',
    resolve: {
      alias: {
        '@clipwise/finetune/browser': path.join(appDir, '../finetune/src/browser.ts'),
        ...vitestPreset().resolve.alias,
      },
    },
    build: { outDir, emptyOutDir: true },
  });
}
