import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensorsFromBuffer } from '@clipwise/models';
import { run, tinyE2E } from './train-helpers';

const readJsonl = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('clipwise train (E2E, tiny GPT-2, cpu)', () => {
  it('runs a private E2E run end to end: progress, JSONL log, evals with BLEU/ROUGE-L, checkpoint and report', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const r = await run(['train', '--config', t.config, '--steps', '6', '--epsilon', '4', '--eval-every', '3', '--gen-limit', '2', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // private diagnostics (the default): no training loss, even on the console
    expect(r.out).toMatch(/step 6\/6 {2}B=\d+ {2}[\d.]+ samples\/s {2}ETA \d+:\d\d {2}ε=\d\.\d{3}/);
    expect(r.out).toMatch(/eval @ step 3: loss [\d.]+ perplexity [\d.]+ BLEU [\d.]+ ROUGE-L [\d.]+ \(2 MRs\)/);
    const log = readJsonl(path.join(out, 'log.jsonl'));
    expect(log.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const l of log) {
      expect(Object.keys(l).sort()).toEqual(['batchSize', 'diagnostics', 'epsilon', 'groups', 'step', 'stepMs']);
      expect(l.diagnostics).toBe('private');
      expect(l.groups.length).toBe(9); // layer-wise groups of a 1-layer GPT-2
      expect(Object.keys(l.groups[0]).sort()).toEqual(['group', 'noisyClipFraction', 'threshold']);
    }
    expect(log[5].epsilon).toBeLessThanOrEqual(4);
    expect(log[5].epsilon).toBeGreaterThan(log[0].epsilon);
    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy).toMatchObject({ private: true, delta: 1e-5, accountant: 'rdp', steps: 6, sampling: 'poisson', sampleRate: 4 / 12, clipping: { fn: 'abadi', clipNorm: 1 } });
    expect(privacy.epsilon).toBe(log[5].epsilon);
    expect(privacy.grouping.groups[0].threshold).toBeCloseTo(1 / 3, 12);
    expect(privacy.nonPrivateChoices[0]).toMatch(/--tokenizer word/);
    expect(privacy.statement).toMatch(/ε = 3\.99\d\d, δ = 0\.00001/);
    const metrics = readJson(path.join(out, 'report/metrics.json'));
    expect(metrics.evals.map((e: { step: number }) => e.step)).toEqual([0, 3, 6]);
    expect(metrics.bleu).toBeGreaterThanOrEqual(0);
    expect(metrics.rougeL).toBeGreaterThanOrEqual(0);
    const html = readFileSync(path.join(out, 'report/report.html'), 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(6);
    for (const f of ['ledger.json', 'sampler.json', 'noise.json', 'optimizer.json', 'tokenizer.json', 'state.json', 'model/config.json', 'model/model.safetensors']) {
      expect(existsSync(path.join(out, 'checkpoint', f)), f).toBe(true);
    }
    expect(readJson(path.join(out, 'checkpoint/state.json')).step).toBe(6);
    expect(readJson(path.join(out, 'checkpoint/ledger.json')).history[0].steps).toBe(6);
    // Headless Chromium renders the report (skipped where it is not installed).
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
    if (chromium) {
      const dom = execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${path.join(out, 'report/report.html')}`], { encoding: 'utf8', timeout: 30000 });
      expect(dom).toMatch(/id="privacy-statement"/);
      expect(dom.match(/<g [^>]*aria-label="line"/g)!.length).toBeGreaterThanOrEqual(4); // Observable Plot's line marks
      // 3 evaluations: each point of the evaluation charts has a marker
      expect(dom.match(/<circle/g)!.length).toBeGreaterThanOrEqual(3 * 4);
      // What a reader sees: no raw floats (the exact statement is folded away in <details>, and is in privacy.json)
      const visible = dom.replace(/<details>[\s\S]*?<\/details>/g, '').replace(/<style>[\s\S]*?<\/style>/g, '').replace(/<title>[\s\S]*?<\/title>/g, '').replace(/<[^>]+>/g, ' ');
      expect(visible).not.toMatch(/\d\.\d{5,}/);
      expect(visible).toMatch(/ε = +4\.00 +at δ = 1e-5/); // 3.9998 rounded up: a bound stays a bound
      expect(visible).toMatch(/evaluation loss \(nats per token\) +\d+\.\d{3} /);
      expect(visible).toMatch(/mean step time +\d+(\.\d+)? s /);
      expect(visible).toMatch(/before \(step 0\)[\s\S]*after \(step 6\)/);
      // and as a picture (OUT/report-screenshot.png, to look at)
      const png = path.join(out, 'report-screenshot.png');
      execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1200,3200', `--screenshot=${png}`, `file://${path.join(out, 'report/report.html')}`], { timeout: 30000, stdio: 'ignore' });
      expect(readFileSync(png).length).toBeGreaterThan(20000);
    }
  });

  it('resumes exactly: 3 steps, halt, resume to 6 gives the weights and ε of an uninterrupted 6-step run', async () => {
    const t = tinyE2E({ optimizer: 'adamw', 'weight-decay': 0.01, schedule: 'warmup-cosine', warmup: 2, grouping: 'uniform:2', clipping: 'automatic' });
    const base = ['train', '--config', t.config, '--steps', '6', '--epsilon', '5', '--seed', '3', '--gen-limit', '0'];
    const full = path.join(t.dir, 'full');
    const split = path.join(t.dir, 'split');
    expect((await run([...base, '--out', full])).code).toBe(0);
    const first = await run([...base, '--out', split, '--halt-after', '3']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/halted after 3 steps/);
    expect(readJson(path.join(split, 'checkpoint/state.json')).step).toBe(3);
    expect(existsSync(path.join(split, 'report'))).toBe(false);
    const again = await run([...base, '--out', split]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a checkpoint \(step 3\); pass --resume/);
    const changed = await run([...base, '--out', split, '--resume', '--clip-norm', '2']);
    expect(changed.code).toBe(2);
    expect(changed.err).toMatch(/--clip-norm differs from the checkpoint \(checkpoint 1, now 2\)/);
    const resumed = await run([...base, '--out', split, '--resume']);
    expect(resumed.err).toBe('');
    expect(resumed.out).toMatch(/resumed from .* at step 3, ε=/);
    const weights = (dir: string) => readSafetensorsFromBuffer(readFileSync(path.join(dir, 'checkpoint/model/model.safetensors')), dir).tensors;
    const a = weights(full);
    const b = weights(split);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    let maxDiff = 0;
    for (const [name, ta] of a) {
      const da = ta.data as Float32Array;
      const db = b.get(name)!.data as Float32Array;
      for (let i = 0; i < da.length; i++) maxDiff = Math.max(maxDiff, Math.abs(da[i]! - db[i]!));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
    const pa = readJson(path.join(full, 'report/privacy.json'));
    const pb = readJson(path.join(split, 'report/privacy.json'));
    expect(pb.epsilon).toBe(pa.epsilon);
    expect(pb.steps).toBe(6);
    expect(readJsonl(path.join(split, 'log.jsonl')).map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // the clip-count noise stream resumes too
    const clipFractions = (dir: string) => readJsonl(path.join(dir, 'log.jsonl')).map((l) => l.groups.map((g: { noisyClipFraction: number }) => g.noisyClipFraction));
    expect(clipFractions(split)).toEqual(clipFractions(full));
    expect(readJson(path.join(split, 'checkpoint/noise.json')).clipCounts.steps).toBe(6);
  });

  it('stops before a step would exceed the target ε, and says so', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const r = await run(['train', '--config', t.config, '--steps', '40', '--noise-multiplier', '2', '--epsilon', '3', '--gen-limit', '0', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stopping before step (\d+): it would spend ε=[\d.]+ > target 3/);
    expect(r.out).toMatch(/status: budget/);
    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy.epsilon).toBeLessThanOrEqual(3);
    expect(privacy.stoppedAtBudget).toBe(true);
    expect(privacy.steps).toBeLessThan(40);
    expect(privacy.steps).toBeGreaterThan(0);
    const stoppedBefore = Number(/stopping before step (\d+)/.exec(r.out)![1]);
    expect(privacy.steps).toBe(stoppedBefore - 1);
    expect(privacy.statement).toMatch(/Training stopped early/);
  });

  it('trains without privacy (--no-dp) with shuffle sampling, SGD and a constant schedule', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const r = await run(['train', '--config', t.config, '--no-dp', '--epochs', '1', '--sampling', 'shuffle', '--optimizer', 'sgd', '--schedule', 'constant', '--limit', '8', '--eval-limit', '2', '--gen-limit', '5', '--max-physical-batch', '2', '--out', out]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/NOT PRIVATE \(--no-dp\): 2 steps, shuffle sampling/);
    expect(r.out).toMatch(/data: 8 examples/);
    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy).toMatchObject({ private: false, epsilon: null, steps: 2 });
    expect(readJson(path.join(out, 'report/metrics.json')).evals.at(-1).generated).toBe(2); // --eval-limit 2 rows, 2 distinct MRs
    const log = readJsonl(path.join(out, 'log.jsonl'));
    expect(log.every((l) => l.batchSize === 4 && l.epsilon === null)).toBe(true);
  });

  it('labels a private shuffle-sampled run with the shuffle caveat (PRV accountant)', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const r = await run(['train', '--config', t.config, '--steps', '2', '--epsilon', '6', '--sampling', 'shuffle', '--accountant', 'prv', '--gen-limit', '0', '--out', out]);
    expect(r.err).toBe('');
    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy).toMatchObject({ sampling: 'shuffle', accountant: 'prv' });
    expect(privacy.caveats.join(' ')).toMatch(/not a proven guarantee/);
  });
});

describe('clipwise train: bad input exits 2 naming the flag', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown optimizer', ['--optimizer', 'rmsprop'], /--optimizer must be one of sgd, adam, adamw, got 'rmsprop'/],
    ['unknown clipping', ['--clipping', 'flat'], /--clipping must be one of abadi, automatic/],
    ['ε ≤ 0', ['--epsilon', '0'], /--epsilon must be a number > 0, got '0'/],
    ['δ out of range', ['--delta', '2'], /--delta must be a number in \(0, 1\)/],
    ['missing data file', ['--data', '/nonexistent/train.csv'], /--data \/nonexistent\/train\.csv: no such file/],
    ['q > 1', ['--batch-size', '50'], /--batch-size 50 gives q = B\/N = 50\/12 > 1/],
    ['unknown preset', ['--model', 'gpt9-huge'], /--model 'gpt9-huge' is neither a preset \(gpt2, gpt2-tiny, gpt2-mini, vit-base-16, vit-tiny, vit-mini\) nor a folder/],
    ['unknown grouping', ['--grouping', 'zigzag'], /--grouping 'zigzag'/],
    ['unreachable ε', ['--epsilon', '0.001', '--steps', '100'], /--epsilon 0\.001: .*unreachable/],
    ['unknown flag', ['--frobnicate', '1'], /unknown option '--frobnicate'/],
    ['both epochs and steps', ['--epochs', '1', '--steps', '3'], /give --epochs or --steps, not both/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const t = tinyE2E();
    const r = await run(['train', '--config', t.config, '--out', path.join(t.dir, 'out'), ...args]);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('names an unknown --config key', async () => {
    const t = tinyE2E();
    writeFileSync(t.config, JSON.stringify({ data: t.train, epsilom: 3 }));
    const r = await run(['train', '--config', t.config]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown key 'epsilom'/);
  });
});
