// Runs every workspace's tests on the webgpu backend (CLIPWISE_BACKEND=webgpu), one workspace at a
// time (one GPU), without turbo (the GPU machine carries no build tools), and prints a summary table.
// Usage: node tooling/scripts/test-gpu.mjs [workspace-dir ...]   (default: every packages/* and apps/*)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { vitestCounts } from './vitest-counts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');
const dirs = process.argv.length > 2
  ? process.argv.slice(2).map((d) => path.resolve(d))
  : ['packages', 'apps'].flatMap((g) => readdirSync(path.join(root, g)).map((n) => path.join(root, g, n)));

const rows = [];
for (const dir of dirs) {
  const pkg = path.join(dir, 'package.json');
  if (!existsSync(pkg) || !JSON.parse(readFileSync(pkg, 'utf8')).scripts?.['test:gpu']) continue;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [vitest, 'run'], { cwd: dir, env: { ...process.env, CLIPWISE_BACKEND: 'webgpu' }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  process.stdout.write(out);
  const c = out.split('\n').map(vitestCounts).find(Boolean) ?? { passed: 0, failed: 0, skipped: 0 };
  rows.push({ name: path.relative(root, dir), ...c, code: r.status, s: (Date.now() - t0) / 1000 });
}
console.log('\n| workspace | passed | failed | skipped | exit | seconds |\n| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.name} | ${r.passed} | ${r.failed} | ${r.skipped} | ${r.code} | ${r.s.toFixed(0)} |`);
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
console.log(`\ntests (webgpu): ${sum('passed')} passed, ${sum('failed')} failed${sum('skipped') ? `, ${sum('skipped')} skipped` : ''}`);
process.exit(rows.some((r) => r.code !== 0) ? 1 : 0);
