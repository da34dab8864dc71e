import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { version } from '../package.json';
import { defaultLabel } from '../src/flags/flag-spec';
import { COMMANDS } from '../src/program';
import { TRAIN_FLAGS } from '../src/train/train-flags';
import { explicitSettings } from '../src/train/train-config';
import { run } from './train-helpers';

// Help text is wrapped to the terminal: compare with runs of spaces and line breaks squeezed.
const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('clipwise CLI conventions (issue #20)', () => {
  it.each(COMMANDS.map((c) => c.name))('clipwise %s --help exits 0 and lists every flag with its default', async (name) => {
    const spec = COMMANDS.find((c) => c.name === name)!;
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^Usage: clipwise ${name} \\[options\\]`));
    const help = flat(r.out);
    for (const flag of spec.flags) {
      expect(help, flag.name).toContain(`--${flag.name}`);
      const d = defaultLabel(flag);
      if (d !== undefined) expect(help, flag.name).toContain(flat(`(default: ${d})`));
    }
    // `help COMMAND` is the same text
    expect((await run(['help', name])).out).toBe(r.out);
  });

  it('train --help shows units and groups the flags', async () => {
    const help = flat((await run(['train', '--help'])).out);
    expect(help).toContain('--batch-size <B> expected logical batch (q = B/N, must be ≤ 1) (default: 32 examples)');
    expect(help).toContain('--seq-len <T> E2E row length / text block length (default: 64 tokens)');
    expect(help).toContain('--delta <D> δ of the (ε, δ) guarantee (default: 1e-5)');
    for (const group of ['Data', 'Model', 'Privacy', 'Plan', 'Optimizer', 'Run']) expect(help).toContain(`${group} options:`);
  });

  it('--version prints the package version; --help lists the commands and exit codes', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(version);
    }
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.out).toMatch(new RegExp(`^  ${c.name} \\[options\\]`, 'm'));
    expect(help.out).toMatch(/Exit status: 0 ok, 1 the run failed .*, 2 bad usage/);
  });

  it('no command prints the help on stderr and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^Usage: clipwise \[options\] \[command\]/);
  });

  it.each([
    [['train', '--epsilom', '3'], "clipwise train: unknown option '--epsilom' (did you mean --epsilon?)"],
    [['bench', '--optimiser', 'sgd'], "clipwise bench: unknown option '--optimiser' (did you mean --optimizer?)"],
    [['audit', '--canary', '10'], "clipwise audit: unknown option '--canary' (did you mean --canaries?)"],
    [['trian'], "clipwise: unknown command 'trian' (did you mean train?)"],
    [['train', 'extra'], "clipwise train: too many arguments for 'train'"],
    [['train', '--steps'], "clipwise train: option '--steps <N>' argument missing"],
    [['train', '--steps', 'ten'], "clipwise train: --steps must be a positive integer, got 'ten'"],
    [['norms', '--input', 'x.json'], 'clipwise norms: --model DIR is required'],
    // --no-dp is a switch of its own, not the negation of a --dp flag
    [['train', '--data', 'x.csv', '--no-dp', '--epsilon', '3'], 'clipwise train: --no-dp trains without privacy: drop --epsilon'],
  ])('%j: one error format, a suggestion where one is close, exit 2', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const [first, hint] = r.err.split('\n');
    expect(first).toContain(message);
    expect(hint).toMatch(/^Run 'clipwise( \w+)? --help' for usage\.$/);
  });

  it('a failure of the run exits 1 in the same format, without the usage hint', async () => {
    const r = await run(['norms', '--model', '/nonexistent-model', '--input', '/nonexistent.json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^clipwise norms: --input \/nonexistent\.json: cannot read it \(ENOENT/);
    expect(r.err).not.toMatch(/--help/);
  });

  it('every train flag is a config key, checked the same way (one declaration)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-keys-'));
    const file = path.join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ epsilom: 3 }));
    const names = TRAIN_FLAGS.map((f) => f.name);
    let message = '';
    try {
      explicitSettings({ config: file });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`unknown key 'epsilom' (did you mean epsilon?); valid keys are the flag names: ${names.join(', ')}`);
    // the same bad value, from a file and from the command line
    writeFileSync(file, JSON.stringify({ 'batch-size': 0 }));
    expect(() => explicitSettings({ config: file })).toThrow(/--batch-size must be a positive integer, got 0 \(in .*run\.json\)/);
    expect(() => explicitSettings({ 'batch-size': '0' })).toThrow(/--batch-size must be a positive integer, got '0'$/);
    // model-config is a flag (JSON) and a key (a mapping)
    writeFileSync(file, JSON.stringify({ 'model-config': { n_embd: 16 } }));
    expect(explicitSettings({ config: file })['model-config']).toEqual({ n_embd: 16 });
    expect(explicitSettings({ 'model-config': '{"n_embd":16}' })['model-config']).toEqual({ n_embd: 16 });
    expect(() => explicitSettings({ 'model-config': '{"n_embd":"big"}' })).toThrow(/--model-config field "n_embd" must be a number/);
  });
});
