// Shared vitest settings. Workspace packages resolve to their sources, so tests need no build.
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function workspaceAliases() {
  const dir = path.join(root, 'packages');
  const alias = {};
  for (const name of readdirSync(dir)) {
    // a subpath entry (`@clipwise/models/node` -> src/node.ts) first: the bare name would match it too
    const node = path.join(dir, name, 'src', 'node.ts');
    if (existsSync(node)) alias[`@clipwise/${name}/node`] = node;
    const src = path.join(dir, name, 'src', 'index.ts');
    if (existsSync(src)) alias[`@clipwise/${name}`] = src;
  }
  return alias;
}

/** @param {{ timeoutMs?: number, tfjs?: boolean }} [options] tfjs: false for packages that do not use TF.js */
export function vitestPreset(options = {}) {
  return {
    resolve: { alias: workspaceAliases() },
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      setupFiles: options.tfjs === false ? [] : [path.join(root, 'tooling/config/setup-tfjs.js')],
      testTimeout: options.timeoutMs ?? 60_000,
      passWithNoTests: true,
      pool: 'forks',
      // The tfjs cpu backend is single-threaded JS: two workers use the two cores of CI.
      poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    },
  };
}
