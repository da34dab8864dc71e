import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inferTask } from '../src/train/task-data';
import { explicitSettings, resolveConfig } from '../src/train/train-config';
import { run } from './train-helpers';

const CONFIGS = path.join(__dirname, '..', 'configs');

function write(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'clipwise-config-')), name);
  writeFileSync(file, text);
  return file;
}

const settingsOf = (file: string, flags: Record<string, unknown> = {}) => explicitSettings({ config: file, ...flags });

describe('--config YAML files', () => {
  it('gives the same settings as the equivalent JSON file (numbers, exponents, booleans, nested model-config)', () => {
    const json = {
      model: 'gpt2-tiny', data: 'train.csv', epsilon: 8, delta: 1e-5, 'batch-size': 32, lr: 0.002, 'no-dp': false,
      grouping: 'uniform:2', 'model-config': { n_embd: 16, n_layer: 1, n_head: 2 },
    };
    const yaml = [
      '# a comment',
      'model: gpt2-tiny',
      'data: train.csv',
      'epsilon: 8',
      'delta: 1.0e-5',
      'batch-size: 32',
      'lr: 2e-3',
      'no-dp: false',
      'grouping: "uniform:2"',
      'model-config:',
      '  n_embd: 16',
      '  n_layer: 1',
      '  n_head: 2',
    ].join('\n');
    const fromJson = settingsOf(write('run.json', JSON.stringify(json)));
    expect(fromJson).toEqual(json);
    for (const name of ['run.yaml', 'run.yml', 'RUN.YAML']) expect(settingsOf(write(name, yaml))).toEqual(fromJson);
  });

  it('lets command-line flags override the file', () => {
    const file = write('run.yaml', 'data: a.csv\nepsilon: 8\nsteps: 10\n');
    expect(settingsOf(file, { epsilon: '3' })).toEqual({ data: 'a.csv', epsilon: 3, steps: 10 });
  });

  const bad: [string, string, RegExp][] = [
    ['an unknown key', 'data: a.csv\nepsilom: 3\n', /--config .*run\.yaml: unknown key 'epsilom' \(did you mean epsilon\?\); valid keys are the flag names: data, eval-data, task/],
    ['a wrong type', 'data: a.csv\nepsilon: eight\n', /--epsilon must be a number > 0, got 'eight' \(in .*run\.yaml\)/],
    ['a YAML word for a boolean', 'data: a.csv\nno-dp: yes\n', /--no-dp must be true or false, got 'yes' \(in .*run\.yaml\)/],
    ['a value outside the allowed set', 'data: a.csv\noptimizer: rmsprop\n', /--optimizer must be one of sgd, adam, adamw, got 'rmsprop'/],
    ['a list where a value belongs', 'data: a.csv\nsteps: [1, 2]\n', /--steps must be a positive integer, got \[1,2\]/],
    ['a non-number in model-config', 'data: a.csv\nmodel-config:\n  n_embd: big\n', /"model-config\.n_embd" must be a number, got "big"/],
    ['model-config that is not a mapping', 'data: a.csv\nmodel-config: 16\n', /"model-config" must be a mapping/],
    ['a duplicate key', 'epsilon: 8\nepsilon: 3\n', /cannot parse it as YAML \(Map keys must be unique at line 2, column 1\)/],
    ['broken syntax', 'data: [a.csv\nsteps: 2\n', /cannot parse it as YAML \(.*line \d+, column \d+\)/],
    ['a list at the top', '- epsilon: 8\n', /expected a YAML mapping of flag names to values.*got a list/],
    ['an empty file', '# nothing\n', /expected a YAML mapping of flag names to values.*got nothing/],
  ];
  it.each(bad)('refuses %s, naming it (exit 2)', async (_what, text, message) => {
    const file = write('run.yaml', text);
    const r = await run(['train', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it.each([
    ['a missing comma', '{\n  "data": "a.csv"\n  "steps": 2\n}', /--config \S+run\.json: cannot parse it as JSON \(Expected ',' or '}' after property value at line 3, column 3\)/],
    ['a truncated file', '{"data": "a.csv", "ste', /--config \S+run\.json: cannot parse it as JSON \(the text ends before the JSON value is complete \(truncated\?\) at line 1, column 23\)/],
  ])('refuses a JSON config with %s, naming the line and column (exit 2)', async (_what, text, message) => {
    const r = await run(['train', '--config', write('run.json', text)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('names a missing file', async () => {
    const r = await run(['train', '--config', '/nonexistent/run.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--config \/nonexistent\/run\.yaml: cannot read it \(ENOENT/);
  });
});

describe('shipped example configs (apps/finetune/configs)', () => {
  const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml'));

  it('ships the E2E GPT-2 and CIFAR ViT examples', () => {
    expect(files.sort()).toEqual(['cifar-vit.yaml', 'e2e-gpt2.yaml']);
  });

  it.each(files)('%s parses into a complete, valid train config', (name) => {
    const given = settingsOf(path.join(CONFIGS, name));
    const config = resolveConfig(given);
    // Every value in the file survives resolution unchanged (defaults only fill what is absent).
    for (const [k, v] of Object.entries(given)) expect(config[k as keyof typeof config]).toEqual(v);
    expect(config.epsilon).toBeGreaterThan(0);
    expect(config.delta).toBeLessThan(1e-4);
  });

  it('the E2E example is a private GPT-2 run on E2E data; the CIFAR one a ViT run on images', () => {
    const e2e = resolveConfig(settingsOf(path.join(CONFIGS, 'e2e-gpt2.yaml')));
    expect(inferTask(e2e)).toBe('e2e');
    expect(e2e).toMatchObject({ tokenizer: 'gpt2', sampling: 'poisson', 'no-dp': false });
    const vit = resolveConfig(settingsOf(path.join(CONFIGS, 'cifar-vit.yaml')));
    expect(inferTask(vit)).toBe('images');
    expect(vit.model.startsWith('vit')).toBe(true);
    expect(Object.keys(vit['model-config'] ?? {})).toContain('hidden_size');
  });
});
