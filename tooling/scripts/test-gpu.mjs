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

/** One vitest run of a workspace on webgpu: its output (printed), counts and exit code. */
function runVitest(dir) {
  const r = spawnSync(process.execPath, [vitest, 'run'], { cwd: dir, env: { ...process.env, CLIPWISE_BACKEND: 'webgpu' }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  process.stdout.write(out);
  return { out, code: r.status, c: out.split('\n').map(vitestCounts).find(Boolean) ?? { passed: 0, failed: 0, skipped: 0 } };
}

const rows = [];
for (const dir of dirs) {
  const pkg = path.join(dir, 'package.json');
  if (!existsSync(pkg) || !JSON.parse(readFileSync(pkg, 'utf8')).scripts?.['test:gpu']) continue;
  const t0 = Date.now();
  let run = runVitest(dir);
  // a test worker that dies in Dawn's native teardown ("terminate called ...", the runner's IPC channel
  // closed) takes its workspace's run with it before any test failed: run that workspace once more, and say so
  const crashed = run.code !== 0 && run.c.failed === 0 && /ERR_IPC_CHANNEL_CLOSED|terminate called after throwing/.test(run.out);
  if (crashed) {
    console.log(`\ntest-gpu: a test worker of ${path.relative(root, dir)} crashed outside any test; running it again`);
    run = runVitest(dir);
  }
  rows.push({ name: path.relative(root, dir), ...run.c, code: run.code, s: (Date.now() - t0) / 1000, note: crashed ? 'rerun after a worker crash' : '' });
}
console.log('\n| workspace | passed | failed | skipped | exit | seconds | note |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) console.log(`| ${r.name} | ${r.passed} | ${r.failed} | ${r.skipped} | ${r.code} | ${r.s.toFixed(0)} | ${r.note} |`);
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
console.log(`\ntests (webgpu): ${sum('passed')} passed, ${sum('failed')} failed${sum('skipped') ? `, ${sum('skipped')} skipped` : ''}`);
process.exit(rows.some((r) => r.code !== 0) ? 1 : 0);
