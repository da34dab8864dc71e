// Issue #16: the main entries of the six library packages bundle for the browser with no Node built-in
// and no polyfill. esbuild already refuses an unresolved `fs` for platform 'browser'; the plugin below
// also refuses any built-in that something marked external or a package's `browser` field would let by.
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { calibrateNoise, createAccountant } from '@clipwise/accountant';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LIBRARIES = ['core', 'grouping', 'ghost-norm', 'optim', 'accountant', 'models'];
const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__/browser-private-step.ts');
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Records every Node built-in that reaches the bundle, and who asked: any asked for by our packages'
 * code, and any asked for by a dependency that neither its own `browser` field maps away (TF.js maps
 * `fs`, `util`, `crypto` to `false`: an empty module, no polyfill) nor esbuild refuses.
 */
function refuseNodeBuiltins(found: string[]): Plugin {
  return {
    name: 'refuse-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const bare = args.path.startsWith('node:') ? args.path : args.path.split('/')[0]!;
        if (!builtins.has(args.path) && !builtins.has(bare)) return undefined;
        const importer = path.isAbsolute(args.importer) ? path.relative(root, args.importer) : args.importer;
        const ours = !importer.startsWith('node_modules/') && !importer.includes('/node_modules/');
        const r = await b.resolve(args.path, { importer: args.importer, resolveDir: args.resolveDir, kind: args.kind, pluginData: 'inner' });
        const mappedAway = r.errors.length === 0 && !r.external;
        if (ours || !mappedAway) found.push(`${args.path} (imported by ${importer})`);
        return undefined;
      });
    },
  };
}

/** `@clipwise/<package>` to its src/index.ts: the public main entry, from source (no build needed). */
function mainEntriesFromSource(packages: readonly string[] = LIBRARIES): Plugin {
  return {
    name: 'clipwise-main-entries',
    setup(b) {
      b.onResolve({ filter: /^@clipwise\// }, (args) => {
        const name = args.path.slice('@clipwise/'.length);
        if (!packages.includes(name)) return { errors: [{ text: `${args.path} is not the main entry of ${packages.join(', ')}` }] };
        return { path: path.join(root, 'packages', name, 'src/index.ts') };
      });
    },
  };
}

async function bundleForBrowser(options: { stdin?: string; plugins?: Plugin[]; format?: 'esm' | 'iife' }) {
  const found: string[] = [];
  const result = await build({
    ...(options.stdin ? { stdin: { contents: options.stdin, resolveDir: root, loader: 'ts' } } : { entryPoints: [entry] }),
    absWorkingDir: root,
    // no tsconfig `paths` (they point @clipwise/* at sources): resolve as an app's bundler would
    tsconfigRaw: {},
    bundle: true,
    platform: 'browser',
    format: options.format ?? 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [refuseNodeBuiltins(found), ...(options.plugins ?? [])],
  }).catch((e: { errors?: Array<{ text: string; location?: { file: string } | null }> }) => {
    if (!e.errors) throw e;
    return { errors: e.errors.map((m) => `${m.text}${m.location ? ` (${m.location.file})` : ''}`), outputFiles: [], metafile: undefined };
  });
  const errors = Array.isArray(result.errors) ? result.errors.map((m) => (typeof m === 'string' ? m : m.text)) : [];
  const output = result.outputFiles?.[0];
  return { found, errors, bytes: output?.contents.byteLength ?? 0, code: output?.text ?? '', inputs: Object.keys(result.metafile?.inputs ?? {}) };
}

describe('browser bundle of the six library packages (issue #16)', () => {
  it("bundles the README's private step from the main entries with no Node built-in", async () => {
    const { found, errors, bytes, inputs } = await bundleForBrowser({ plugins: [mainEntriesFromSource()] });
    expect(errors).toEqual([]);
    expect(found).toEqual([]);
    expect(bytes).toBeGreaterThan(100_000);
    for (const name of LIBRARIES) expect(inputs.some((f) => f.startsWith(`packages/${name}/src/`)), name).toBe(true);
    // the file-system half of models stays out
    expect(inputs.filter((f) => /read-safetensors-file|write-safetensors|read-hf-config|write-file-atomic|src\/node\.ts/.test(f))).toEqual([]);
  });

  // Through each package.json `exports`, as an app installing the packed packages would; needs `npm run build`.
  const built = LIBRARIES.every((name) => existsSync(path.join(root, 'packages', name, 'dist/index.js')));
  it.runIf(built)('bundles the same from the built packages (package.json exports, dist)', async () => {
    const { found, errors, inputs } = await bundleForBrowser({});
    expect(errors).toEqual([]);
    expect(found).toEqual([]);
    for (const name of LIBRARIES) expect(inputs.some((f) => f.startsWith(`packages/${name}/dist/`)), name).toBe(true);
  });

  // Debian's chromium (CI's .ci/run installs it) through playwright-core: nothing downloads a browser.
  const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
  it.runIf(chromiumPath)('the bundle runs the private step in headless Chromium and reports its ε', async () => {
    const { errors, code } = await bundleForBrowser({
      stdin: `import { privateStep } from ${JSON.stringify(entry)}; (globalThis as { runPrivateStep?: unknown }).runPrivateStep = privateStep;`,
      plugins: [mainEntriesFromSource()],
      format: 'iife',
    });
    expect(errors).toEqual([]);
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.addScriptTag({ content: code });
      const epsilon = await page.evaluate(() => (globalThis as unknown as { runPrivateStep: () => Promise<number> }).runPrivateStep());
      // the fixture's defaults: q = 0.01, N = 1000, σ calibrated for ε = 3 over 100 steps, one step taken
      const { noiseMultiplier } = calibrateNoise({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01, steps: 100, accountant: 'rdp' });
      const want = createAccountant('rdp').step(noiseMultiplier, 0.01).epsilon(1e-5);
      expect(epsilon).toBeGreaterThan(0);
      expect(epsilon).toBeCloseTo(want, 9);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  // The web example (apps/web) also uses @clipwise/data's main entry and the CLI's shared training pieces.
  it("bundles @clipwise/data's main entry and @clipwise/finetune/browser with no Node built-in", async () => {
    const browserEntry = path.join(root, 'apps/finetune/src/browser.ts');
    const { found, errors, inputs } = await bundleForBrowser({
      stdin: `export * from '@clipwise/data'; export * from ${JSON.stringify(browserEntry)};`,
      plugins: [mainEntriesFromSource([...LIBRARIES, 'data'])],
    });
    expect(errors).toEqual([]);
    expect(found).toEqual([]);
    expect(inputs.some((f) => f.startsWith('packages/data/src/text/'))).toBe(true);
    expect(inputs).toContain('apps/finetune/src/train/train-step.ts');
    expect(inputs.filter((f) => /packages\/data\/src\/(node|archives)|image-folder|decode-image|task-data\.ts|src\/cli\.ts/.test(f))).toEqual([]);
  });

  it('fails loudly when a Node built-in comes back', async () => {
    const { found, errors } = await bundleForBrowser({
      stdin: "import { readFile } from 'node:fs/promises'; import { join } from 'path'; export const f = () => readFile(join('a', 'b'));",
    });
    expect(found).toEqual(['node:fs/promises (imported by <stdin>)', 'path (imported by <stdin>)']);
    expect(errors.join('\n')).toMatch(/Could not resolve "node:fs\/promises"/);
  });
});
