import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RdpAccountant } from '../accountants/rdp-accountant';
import { version } from '../../package.json';
import { ACCOUNTANT_COMMANDS, ACCOUNTANT_FLAGS, accountantFlagTable, usageLine, type AccountantFlag } from './cli-flags';
import { main, type CliIo } from './main';

function run(argv: string[], files: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readFile: (path) => {
      if (!(path in files)) throw new Error(`ENOENT: no such file '${path}'`);
      return files[path];
    },
  };
  const code = main(argv, io);
  return { code, stdout, stderr };
}

const MNIST = ['--sample-rate', String(256 / 60000), '--delta', '1e-5'];

describe('clipwise-accountant epsilon', () => {
  it('prints ε (text and --json) equal to the API value', () => {
    const want = new RdpAccountant().step(1.1, 256 / 60000, 14063).epsilon(1e-5);
    const text = run(['epsilon', ...MNIST, '--noise-multiplier', '1.1', '--steps', '14063']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^epsilon: 2\.59666 \(delta 0\.00001, 14063 steps, rdp accountant, best order 8\.1\)/);
    const json = run(['epsilon', ...MNIST, '--noise-multiplier=1.1', '--steps=14063', '--json']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.epsilon).toBe(want);
    expect(out).toMatchObject({ command: 'epsilon', accountant: 'rdp', bestOrder: 8.1, steps: 14063, sampling: 'poisson' });
  });

  it('--accountant prv widens an eps error the grid cannot reach: a warning line, and bounds and warning in --json', () => {
    // δ = 1e-7: δ_err = 1e-10 caps the grid at 2^15 points by rounding, too coarse for 0.01
    const argv = ['epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1', '--steps', '1000', '--delta', '1e-7', '--accountant', 'prv'];
    const text = run(argv);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^epsilon: [\d.]+ \(delta 1e-7, 1000 steps, prv accountant, upper bound; estimate [\d.]+, lower bound [\d.]+\)\n/);
    expect(text.stdout).toMatch(/\nwarning: eps error widened from 0\.01 to [\d.]+: .*Pass --eps-error = [\d.]+ or more/);
    expect(text.stdout).not.toMatch(/note: eps error widened/);
    const json = JSON.parse(run([...argv, '--json']).stdout);
    expect(json.requestedEpsError).toBe(0.01);
    expect(json.epsError).toBeGreaterThan(0.01);
    expect(json.warning).toMatch(/^eps error widened from 0\.01/);
    expect(json.epsilonLower).toBeLessThanOrEqual(json.epsilonEstimate);
    expect(json.epsilon).toBe(json.epsilonUpper);
  });

  it('--accountant prv prints the bounds; gdp says it is an approximation; shuffle is flagged', () => {
    const prv = JSON.parse(run(['epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1', '--steps', '300', '--delta', '1e-5', '--accountant', 'prv', '--eps-error', '0.02', '--json']).stdout);
    expect(prv.epsilonLower).toBeLessThanOrEqual(prv.epsilonEstimate);
    expect(prv.epsilon).toBe(prv.epsilonUpper);
    expect(prv.epsError).toBe(0.02);
    const gdp = run(['epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1', '--steps', '300', '--delta', '1e-5', '--accountant', 'gdp']);
    expect(gdp.stdout).toMatch(/approximation/);
    const shuffle = run(['epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1', '--steps', '300', '--delta', '1e-5', '--sampling', 'shuffle']);
    expect(shuffle.stdout).toMatch(/note: sampling is 'shuffle'/);
  });

  it('prints 0 for zero steps', () => {
    expect(JSON.parse(run(['epsilon', '--sample-rate', '0.1', '--noise-multiplier', '1', '--steps', '0', '--delta', '1e-5', '--json']).stdout).epsilon).toBe(0);
  });
});

describe('clipwise-accountant sigma and steps', () => {
  it('sigma --json gives a noiseMultiplier meeting the target', () => {
    const r = run(['sigma', '--target-epsilon', '3', ...MNIST, '--steps', '14063', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(new RdpAccountant().step(out.noiseMultiplier, 256 / 60000, 14063).epsilon(1e-5)).toBeLessThanOrEqual(3);
    expect(out).toMatchObject({ command: 'sigma', accountant: 'rdp', targetEpsilon: 3, steps: 14063 });
  });

  it('steps prints the affordable number of steps', () => {
    const r = run(['steps', '--target-epsilon', '3', ...MNIST, '--noise-multiplier', '1.1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^steps: \d+ \(epsilon/);
  });
});

describe('clipwise-accountant ledger', () => {
  it('reads a saved ledger and prints its ε', () => {
    const acc = new RdpAccountant().step(1.1, 0.004, 1000);
    const r = run(['ledger', 'run/ledger.json', '--delta', '1e-5', '--json'], { 'run/ledger.json': JSON.stringify(acc) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).epsilon).toBe(acc.epsilon(1e-5));
    const missing = run(['ledger', 'nope.json', '--delta', '1e-5']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read ledger file 'nope.json'/);
    const broken = run(['ledger', 'bad.json', '--delta', '1e-5'], { 'bad.json': '{"version":1' });
    expect(broken.stderr).toMatch(/ledger is not valid JSON/);
  });
});

describe('bad input exits non-zero naming the argument and the valid range', () => {
  const base = ['--sample-rate', '0.01', '--noise-multiplier', '1', '--steps', '100', '--delta', '1e-5'];
  const set = (flag: string, value: string) => {
    const argv = ['epsilon', ...base];
    argv[argv.indexOf(flag) + 1] = value;
    return argv;
  };
  it.each([
    [set('--sample-rate', '1.5'), /--sample-rate must be a number in \(0, 1\], got 1.5/],
    [set('--sample-rate', '0'), /--sample-rate must be a number in \(0, 1\], got 0/],
    [set('--noise-multiplier', '0'), /--noise-multiplier must be a finite number > 0, got 0/],
    [set('--noise-multiplier', '-2'), /--noise-multiplier must be a finite number > 0, got -2/],
    [set('--delta', '1'), /--delta must be a number in \(0, 1\), got 1/],
    [set('--delta', '0'), /--delta must be a number in \(0, 1\), got 0/],
    [set('--steps', '-3'), /--steps must be a whole number >= 0, got -3/],
    [set('--steps', '2.5'), /--steps must be a whole number >= 0, got 2.5/],
    [set('--steps', 'ten'), /--steps must be a number, got 'ten'/],
    [[...set('--delta', '1e-5'), '--accountant', 'moments'], /--accountant must be one of rdp, prv, gdp, got 'moments'/],
    [['epsilon', '--sample-rate', '0.01', '--steps', '10', '--delta', '1e-5'], /--noise-multiplier is required/],
    [['epsilon', ...base, '--frobnicate', '1'], /unknown option '--frobnicate'/],
    [['sigma', '--target-epsilon', '0.005', '--delta', '1e-5', '--sample-rate', '0.01', '--steps', '100', '--accountant', 'prv'], /--target-epsilon = 0.005 is unreachable/],
    [['sigma', '--target-epsilon', '1', '--delta', '1e-5', '--sample-rate', '0.01', '--steps', '100', '--accountant', 'gdp'], /--accountant gdp is an approximation/],
    [['sigma', '--target-epsilon', '0', '--delta', '1e-5', '--sample-rate', '0.01', '--steps', '100'], /--target-epsilon must be a finite number > 0, got 0/],
    [['launch', ...base], /unknown command 'launch'/],
  ])('%j', (argv, message) => {
    const r = run(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});

describe('help, version and usage errors (issue #20)', () => {
  it('--help exits 0 and lists the commands; no command prints the help on stderr and exits 2', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/clipwise-accountant epsilon --sample-rate Q --noise-multiplier S --steps T --delta D/);
    expect(r.stdout).toMatch(/Exit status: 0 ok, 1 unexpected failure, 2 bad usage/);
    const none = run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^Usage: clipwise-accountant/);
  });

  it.each(ACCOUNTANT_COMMANDS.map((c) => c.name))('%s --help exits 0 and lists every flag of the declaration', (name) => {
    const spec = ACCOUNTANT_COMMANDS.find((c) => c.name === name)!;
    for (const argv of [[name, '--help'], [name, '-h'], ['help', name]]) {
      const r = run(argv);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe(`Usage: ${usageLine(spec)}`);
      const help = r.stdout.replace(/\s+/g, ' ');
      for (const key of spec.required) expect(help).toMatch(new RegExp(`${ACCOUNTANT_FLAGS[key].name} <\\w+> .*?\\(required\\)`));
      for (const key of spec.optional) {
        const flag: AccountantFlag = ACCOUNTANT_FLAGS[key];
        expect(help).toContain(flag.name);
        if (flag.defaultText) expect(help).toContain(`(default: ${flag.defaultText})`);
      }
    }
  });

  it('the README flag table is made from the declaration (else run `npm run readme-flags`)', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const block = /<!-- flags:clipwise-accountant -->\n([\s\S]*?)\n<!-- \/flags:clipwise-accountant -->/.exec(readme)?.[1];
    expect(block).toBe(accountantFlagTable());
  });

  it('--version prints the package version', () => {
    for (const flag of ['--version', '-V']) {
      const r = run([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it.each([
    [['epsilon', '--sample-rate', '0.01', '--noise-multipler', '1'], "clipwise-accountant epsilon: unknown option '--noise-multipler' (did you mean --noise-multiplier?)"],
    [['sigam'], "clipwise-accountant: unknown command 'sigam' (did you mean sigma?)"],
    [['epsilon', '--delta', '1e-5', '--delta', '1e-6'], 'clipwise-accountant epsilon: --delta was given twice; give it once.'],
    [['epsilon', '--delta'], "clipwise-accountant epsilon: option '--delta <D>' argument missing"],
    [['steps', 'extra'], "clipwise-accountant steps: too many arguments for 'steps'"],
  ])('%j: one error format, a suggestion where one is close, exit 2', (argv, message) => {
    const r = run(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const [first, hint] = r.stderr.split('\n');
    expect(first).toContain(message);
    expect(hint).toMatch(/^Run 'clipwise-accountant( \w+)? --help' for usage\.$/);
  });
});

describe('progress of long computations', () => {
  function withProgress(argv: string[]): { code: number; lines: Array<string | null>; stdout: string } {
    const lines: Array<string | null> = [];
    let stdout = '';
    const io: CliIo = { stdout: (t) => (stdout += t), stderr: () => {}, readFile: () => '', progress: (l) => lines.push(l) };
    return { code: main(argv, io), lines, stdout };
  }
  const sigma = ['sigma', '--target-epsilon', '3', '--delta', '1e-5', '--sample-rate', '0.01', '--steps', '200', '--accountant', 'prv'];

  it('sigma and steps show each accountant evaluation on the status line, then clear it', () => {
    const r = withProgress(sigma);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(/^calibrating σ \(prv accountant\): evaluation 1, σ = [\d.]+ gives ε = [\d.]+$/);
    expect(r.lines.length).toBeGreaterThan(3);
    expect(r.lines.at(-1)).toBeNull();
    const steps = withProgress(['steps', '--target-epsilon', '3', '--delta', '1e-5', '--sample-rate', '0.01', '--noise-multiplier', '1']);
    expect(steps.lines[0]).toMatch(/^counting steps \(rdp accountant\): evaluation 1, \d+ steps give ε = /);
    expect(steps.lines.at(-1)).toBeNull();
  });

  it('epsilon with prv says it is composing; --json shows no progress', () => {
    const r = withProgress(['epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1', '--steps', '300', '--delta', '1e-5', '--accountant', 'prv']);
    expect(r.lines).toEqual(['composing the privacy loss of 300 steps (prv accountant) ...', null]);
    const json = withProgress([...sigma, '--json']);
    expect(json.code).toBe(0);
    expect(json.lines).toEqual([]);
    expect(JSON.parse(json.stdout).noiseMultiplier).toBeGreaterThan(0);
  });
});

const dist = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
describe.skipIf(!existsSync(dist))('built bin (dist/cli.js)', () => {
  it('runs under node and exits non-zero on bad input', () => {
    const ok = spawnSync(process.execPath, [dist, 'epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1', '--steps', '300', '--delta', '1e-5', '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).epsilon).toBe(new RdpAccountant().step(1, 0.01, 300).epsilon(1e-5));
    const bad = spawnSync(process.execPath, [dist, 'epsilon', '--sample-rate', '2', '--noise-multiplier', '1', '--steps', '300', '--delta', '1e-5'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--sample-rate must be a number in \(0, 1\]/);
  });
});
