// Runs every package's tests through turbo, streams the output, and closes with one summary line
// ("tests: N passed, M failed") summed over the vitest runs. Exit code: turbo's.
import { spawn } from 'node:child_process';
import { vitestCounts } from './vitest-counts.mjs';

const child = spawn('npx', ['turbo', 'run', 'test', '--concurrency=2', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'] });
let passed = 0;
let failed = 0;
let skipped = 0;
let buffer = '';
const scan = (chunk) => {
  buffer += chunk;
  const lines = buffer.split('\n');
  buffer = lines.pop() ?? '';
  for (const line of lines) {
    const c = vitestCounts(line);
    if (!c) continue;
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
  }
};
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  scan(d.toString());
});
child.stderr.on('data', (d) => process.stderr.write(d));
child.on('close', (code) => {
  scan('\n');
  console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code ?? 1);
});
