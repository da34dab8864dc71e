import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composedNoiseMultiplier, computeEpsilon } from '@clipwise/accountant';
import { readSafetensorsFromBuffer } from '@clipwise/models';
import { editSealed } from './checkpoint-helpers';
import { run, tinyE2E } from './train-helpers';

const readJsonl = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

type Release = { quantity: string; sensitivity: number; noiseStd: number; noiseMultiplier: number; description: string };
/** What a user would publish: everything in OUT/report. */
const reportFiles = (out: string) => readdirSync(path.join(out, 'report')).map((f) => readFileSync(path.join(out, 'report', f), 'utf8'));
const weights = (dir: string) => readSafetensorsFromBuffer(readFileSync(path.join(dir, 'checkpoint/model/model.safetensors')), dir).tensors;

describe('clipwise train --diagnostics (tiny GPT-2, cpu)', () => {
  it('private (default): the clip counts compose with the gradient into the accountant\'s σ_eff, and ε covers both', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const r = await run(['train', '--config', t.config, '--steps', '6', '--epsilon', '4', '--gen-limit', '0', '--out', out]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/diagnostics: private, per-group clip fractions released with count noise σ_c=/);
    expect(r.out).toMatch(/ε=[\d.]+ at δ=0\.00001 for everything released \(gradient \+ clip-counts\)/);
    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy.diagnostics).toBe('private');
    const releases = privacy.releases as Release[];
    expect(releases.map((x) => x.quantity)).toEqual(['gradient', 'clip-counts']);
    const [grad, counts] = releases as [Release, Release];
    for (const x of releases) expect(Math.abs(x.noiseStd / x.sensitivity / x.noiseMultiplier - 1)).toBeLessThan(1e-12);
    // 9 layer-wise groups: Δ = sqrt(9)/2; default σ_c = 5·σ_eff·Δ
    expect(counts.sensitivity).toBe(1.5);
    const sigmaEff = privacy.noiseMultiplier;
    expect(Math.abs(counts.noiseMultiplier / (5 * sigmaEff) - 1)).toBeLessThan(1e-12);
    expect(grad.noiseMultiplier).toBeGreaterThan(sigmaEff);
    // the accountant's own composition of every listed release is the σ it was charged with
    const composed = composedNoiseMultiplier(releases.map((x) => ({ sensitivity: x.sensitivity, noiseStd: x.noiseStd })));
    expect(Math.abs(composed / sigmaEff - 1)).toBeLessThan(1e-12);
    const ledger = readJson(path.join(out, 'checkpoint/ledger.json'));
    expect(ledger.history).toEqual([{ noiseMultiplier: sigmaEff, sampleRate: 4 / 12, steps: 6 }]);
    expect(privacy.epsilon).toBe(computeEpsilon({ noiseMultiplier: sigmaEff, sampleRate: 4 / 12, steps: 6, delta: 1e-5 }).epsilon);
    expect(privacy.epsilon).toBeLessThanOrEqual(4);
    // charging the gradient alone would understate ε
    expect(computeEpsilon({ noiseMultiplier: grad.noiseMultiplier, sampleRate: 4 / 12, steps: 6, delta: 1e-5 }).epsilon).toBeLessThan(privacy.epsilon);
    expect(privacy.statement).toMatch(/released every group's clipped count \(private diagnostics\)/);
    expect(privacy.coverage.covered.join(' ')).toMatch(/per-group clip fractions in this report: noisy counts/);
    expect(privacy.coverage.notCovered.join(' ')).toMatch(/Evaluation metrics/);
    const metrics = readJson(path.join(out, 'report/metrics.json'));
    expect(metrics.finalTrainLoss).toBeNull();
    expect(Object.keys(metrics.noisyClipFractions)).toHaveLength(9);
    const html = readFileSync(path.join(out, 'report/report.html'), 'utf8');
    expect(html).toMatch(/<h2>Covered by the \(ε, δ\) guarantee<\/h2>[\s\S]*<table id="releases">[\s\S]*<h2>Not covered by the guarantee<\/h2>/);
    expect(html).toMatch(/share of samples clipped, per group \(released as noisy counts\)/);
  });

  it('private: neither the report nor the log holds a raw per-sample statistic (scanned against a raw run of the same trajectory)', async () => {
    const t = tinyE2E();
    const priv = path.join(t.dir, 'private');
    const raw = path.join(t.dir, 'raw');
    const base = ['train', '--config', t.config, '--steps', '5', '--gen-limit', '1', '--eval-every', '2', '--seed', '7'];
    expect((await run([...base, '--noise-multiplier', '1', '--out', priv])).code).toBe(0);
    // the raw run gets the private run's gradient σ: same gradient noise stream, so the same trajectory
    const sigmaGrad = (readJson(path.join(priv, 'report/privacy.json')).releases as Release[])[0]!.noiseMultiplier;
    const r = await run([...base, '--noise-multiplier', String(sigmaGrad), '--diagnostics', 'raw', '--out', raw]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/step 5\/5 {2}loss \d+\.\d+ {2}B=/);
    const a = weights(priv);
    const b = weights(raw);
    for (const [name, ta] of a) expect(Array.from(b.get(name)!.data as Float32Array)).toEqual(Array.from(ta.data as Float32Array));

    const rawLog = readJsonl(path.join(raw, 'log.jsonl'));
    expect(rawLog.every((l) => l.diagnostics === 'raw' && typeof l.loss === 'number')).toBe(true);
    const secrets: number[] = rawLog.flatMap((l) => [l.loss, ...l.groups.flatMap((g: Record<string, number>) => [g.clipFraction, g.medianNorm, g.maxNorm])]);
    expect(secrets.every((x) => Number.isFinite(x))).toBe(true);
    expect(secrets.length).toBe(5 * (1 + 9 * 3));
    const published = [...reportFiles(priv), readFileSync(path.join(priv, 'log.jsonl'), 'utf8')].join('\n');
    for (const key of ['medianNorm', 'maxNorm', '"clipFraction"', 'training loss (mean', 'NOT PRIVATE:']) expect(published, key).not.toContain(key);
    expect(readFileSync(path.join(priv, 'log.jsonl'), 'utf8')).not.toContain('"loss"'); // the reports' "loss" is the evaluation loss
    // every number written with 4 or more significant digits, against every raw statistic (the charts'
    // points are SVG pixels; their axis labels carry 3 digits and are compared at that precision below)
    const leaks = (text: string) => [...text.matchAll(/-?\d+\.\d+(?:e-?\d+)?/g)].map((m) => m[0]).filter((str) => {
      const v = Number(str);
      const digits = str.replace(/^-?0\.0*|\.|e.*$/g, '').length;
      if (digits < 4 || v === 0) return false;
      return continuous.some((x) => Math.abs(v - x) <= 0.51 * 10 ** (Math.floor(Math.log10(Math.abs(x))) - digits + 1));
    });
    const continuous = secrets.filter((x) => x !== 0 && Math.abs(x - Math.round(x * 20) / 20) > 1e-9); // leave out fractions k/B that axis ticks share
    expect(continuous.length).toBeGreaterThan(50);
    expect(leaks(published)).toEqual([]);
    // the scan finds them where they are: the raw run's local log
    expect(leaks(readFileSync(path.join(raw, 'log.jsonl'), 'utf8')).length).toBeGreaterThanOrEqual(continuous.length);
    // the raw run is marked, and keeps its raw numbers out of its report too
    const rawPrivacy = readJson(path.join(raw, 'report/privacy.json'));
    expect(rawPrivacy.diagnostics).toBe('raw');
    expect(rawPrivacy.coverage.notCovered[0]).toMatch(/--diagnostics raw.*NOT PRIVATE: they are in the local log\.jsonl only/);
    expect(rawPrivacy.releases.map((x: Release) => x.quantity)).toEqual(['gradient']);
    const rawHtml = readFileSync(path.join(raw, 'report/report.html'), 'utf8');
    expect(rawHtml).toMatch(/Training diagnostics: <b>raw<\/b> — NOT PRIVATE/);
    expect(rawHtml).not.toMatch(/medianNorm|training loss \(mean/);
    expect(readJson(path.join(raw, 'report/metrics.json')).finalTrainLoss).toBeNull();
  });

  it('off: no diagnostics at all, the whole budget on the gradient; adaptive thresholds: clip fractions from their counts at no extra cost', async () => {
    const t = tinyE2E();
    const off = path.join(t.dir, 'off');
    expect((await run(['train', '--config', t.config, '--steps', '3', '--noise-multiplier', '1.1', '--gen-limit', '0', '--diagnostics', 'off', '--out', off])).code).toBe(0);
    const log = readJsonl(path.join(off, 'log.jsonl'));
    expect(log.every((l) => l.diagnostics === 'off' && !('loss' in l) && l.groups.every((g: object) => Object.keys(g).join() === 'group,threshold'))).toBe(true);
    const privacy = readJson(path.join(off, 'report/privacy.json'));
    expect(privacy.releases.map((x: Release) => [x.quantity, x.noiseMultiplier])).toEqual([['gradient', 1.1]]);
    expect(privacy.noiseMultiplier).toBe(1.1);

    const adaptive = path.join(t.dir, 'adaptive');
    const r = await run(['train', '--config', t.config, '--steps', '3', '--noise-multiplier', '1.1', '--gen-limit', '0', '--thresholds', 'adaptive', '--count-noise', '4', '--out', adaptive]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/diagnostics: private, clip fractions from the adaptive thresholds' released counts/);
    const a = readJson(path.join(adaptive, 'report/privacy.json'));
    expect(a.releases.map((x: Release) => x.quantity)).toEqual(['gradient', 'threshold-counts']);
    expect(Math.abs(1 / Math.sqrt(a.releases[0].noiseMultiplier ** -2 + a.releases[1].noiseMultiplier ** -2) / 1.1 - 1)).toBeLessThan(1e-12);
    for (const l of readJsonl(path.join(adaptive, 'log.jsonl'))) {
      for (const g of l.groups) expect(g.noisyClipFraction).toBe(1 - g.unclippedFraction);
    }
  });

  const cases: [string, string[], RegExp][] = [
    ['private without privacy', ['--no-dp', '--diagnostics', 'private'], /--diagnostics private needs a private run/],
    ['count noise with raw diagnostics', ['--diagnostics', 'raw', '--count-noise', '3'], /--count-noise applies to --thresholds adaptive or --diagnostics private only/],
    ['unknown mode', ['--diagnostics', 'noisy'], /--diagnostics/],
    ['count noise too small for σ_eff', ['--count-noise', '0.5', '--noise-multiplier', '1'], /--diagnostics private --count-noise 0\.5: the step's noise multiplier σ_eff = 1\.00000 .* is not achievable/],
  ];
  it.each(cases)('bad input: %s', async (_name, args, message) => {
    const t = tinyE2E();
    const r = await run(['train', '--config', t.config, '--steps', '2', '--gen-limit', '0', '--out', path.join(t.dir, 'out'), ...args]);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('a resume keeps the diagnostics setting', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const base = ['train', '--config', t.config, '--steps', '4', '--noise-multiplier', '1', '--gen-limit', '0', '--out', out];
    expect((await run([...base, '--halt-after', '2'])).code).toBe(0);
    const changed = await run([...base, '--resume', '--diagnostics', 'raw']);
    expect(changed.code).toBe(2);
    expect(changed.err).toMatch(/--diagnostics differs from the checkpoint \(checkpoint "private", now "raw"\)/);
    expect((await run([...base, '--resume'])).code).toBe(0);
    expect(readJson(path.join(out, 'checkpoint/noise.json')).clipCounts.steps).toBe(4);
  });

  it('a checkpoint from before --diagnostics (no setting, no clip-count stream) resumes as raw, the run it was', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const base = ['train', '--config', t.config, '--steps', '4', '--noise-multiplier', '1', '--gen-limit', '0', '--diagnostics', 'raw', '--out', out];
    expect((await run([...base, '--halt-after', '2'])).code).toBe(0);
    await editSealed(out, 'state.json', (st) => ({ ...st, config: { ...st.config, diagnostics: undefined } }));
    const r = await run(['train', '--out', out, '--resume']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/diagnostics: raw/);
    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy.diagnostics).toBe('raw');
    expect(privacy.releases.map((x: Release) => [x.quantity, x.noiseMultiplier])).toEqual([['gradient', 1]]);
  });

  it('--no-dp: nothing is covered, and the raw charts in its report say NOT PRIVATE', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    expect((await run(['train', '--config', t.config, '--steps', '2', '--no-dp', '--gen-limit', '0', '--out', out])).code).toBe(0);
    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy).toMatchObject({ private: false, diagnostics: 'raw', releases: [], coverage: { covered: [] } });
    expect(privacy.coverage.notCovered[0]).toMatch(/^Everything: the run has no differential-privacy guarantee/);
    const html = readFileSync(path.join(out, 'report/report.html'), 'utf8');
    expect(html).toMatch(/NOT PRIVATE: training loss \(mean over the batch\)/);
    expect(readJson(path.join(out, 'report/metrics.json')).finalTrainLoss).toEqual(expect.any(Number));
  });
});
