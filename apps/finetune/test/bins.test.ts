import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeEpsilon } from '@clipwise/accountant';

const root = path.resolve(__dirname, '../../..');
const built = existsSync(path.join(root, 'apps/finetune/dist/cli.js')) && existsSync(path.join(root, 'packages/accountant/dist/cli.js'));

// The committed launchers are what `npx clipwise` / `npx clipwise-accountant` run after `npm ci && npm run build`.
describe.skipIf(!built)('bin launchers (after a build)', () => {
  it('clipwise prints its help', () => {
    const out = execFileSync(process.execPath, [path.join(root, 'apps/finetune/bin/clipwise.js'), 'help'], { encoding: 'utf8' });
    expect(out).toMatch(/^  train \[options\]/m);
  });
  it('clipwise-accountant computes ε as JSON', () => {
    const out = execFileSync(
      process.execPath,
      [path.join(root, 'packages/accountant/bin/clipwise-accountant.js'), 'epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1.1', '--steps', '500', '--delta', '1e-5', '--accountant', 'rdp', '--json'],
      { encoding: 'utf8' },
    );
    // the launcher runs the same computation as the library
    const want = computeEpsilon({ sampleRate: 0.01, noiseMultiplier: 1.1, steps: 500, delta: 1e-5, accountant: 'rdp' }).epsilon;
    expect(JSON.parse(out).epsilon).toBeCloseTo(want, 12);
  });
});
