import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeEpsilon } from '@clipwise/accountant';
import { readSafetensorsFromBuffer } from '@clipwise/models';
import { run, tinyE2E } from './train-helpers';

const readJsonl = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

type Group = { group: string; threshold: number; unclippedFraction: number };

describe('clipwise train --thresholds adaptive (tiny GPT-2, cpu)', () => {
  const adaptive = ['--thresholds', 'adaptive', '--target-quantile', '0.5', '--count-noise', '4'];

  it('moves each group\'s threshold by its released count, accounts σ_eff, and reports C_m over steps', async () => {
    const t = tinyE2E();
    const out = path.join(t.dir, 'out');
    const r = await run(['train', '--config', t.config, '--steps', '6', '--epsilon', '4', '--gen-limit', '0', '--out', out, ...adaptive]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/thresholds: adaptive, target quantile γ=0\.5, η=0\.2, count noise σ_b=4\.000 per group \(count sensitivity sqrt\(M\)\/2=1\.500/);

    const log = readJsonl(path.join(out, 'log.jsonl'));
    expect(log).toHaveLength(6);
    // 9 layer-wise groups; step s+1 clipped with C_m·exp(−η (b̃_m − γ)) of step s (float64 in the log)
    for (let s = 0; s + 1 < log.length; s++) {
      log[s].groups.forEach((g: Group, m: number) => {
        const expected = g.threshold * Math.exp(-0.2 * (g.unclippedFraction - 0.5));
        expect(Math.abs(log[s + 1].groups[m].threshold / expected - 1)).toBeLessThan(1e-12);
      });
    }
    expect(log[0].groups.every((g: Group) => Math.abs(g.threshold - 1 / 3) < 1e-12)).toBe(true); // C/sqrt(9)
    expect(log[5].groups.some((g: Group) => Math.abs(g.threshold - 1 / 3) > 1e-3)).toBe(true);

    const privacy = readJson(path.join(out, 'report/privacy.json'));
    expect(privacy.thresholds).toMatchObject({ kind: 'adaptive', targetQuantile: 0.5, learningRate: 0.2, countNoise: 4, countSensitivity: 1.5 });
    expect(privacy.thresholds.countNoiseMultiplier).toBeCloseTo(4 / 1.5, 12);
    const sigmaEff = privacy.noiseMultiplier;
    const sigmaGrad = privacy.thresholds.gradientNoiseMultiplier;
    expect(sigmaGrad).toBeGreaterThan(sigmaEff);
    // the step's gradient and counts compose (μ² = Σ (Δ/σ)²) to the σ the accountant was given
    expect(Math.abs(1 / Math.sqrt(sigmaGrad ** -2 + (1.5 / 4) ** 2) / sigmaEff - 1)).toBeLessThan(1e-12);
    const ledger = readJson(path.join(out, 'checkpoint/ledger.json'));
    expect(ledger.history).toEqual([{ noiseMultiplier: sigmaEff, sampleRate: 4 / 12, steps: 6 }]);
    expect(privacy.epsilon).toBe(computeEpsilon({ noiseMultiplier: sigmaEff, sampleRate: 4 / 12, steps: 6, delta: 1e-5 }).epsilon);
    expect(privacy.epsilon).toBeLessThanOrEqual(4);
    expect(privacy.statement).toMatch(/adaptive thresholds starting at 0\.3333 that track the 0\.5 quantile/);
    expect(privacy.thresholds.finalThresholds).toHaveLength(9);

    const metrics = readJson(path.join(out, 'report/metrics.json'));
    expect(Object.keys(metrics.thresholds)).toHaveLength(9);
    for (const [name, points] of Object.entries(metrics.thresholds as Record<string, [number, number][]>)) {
      expect(points).toEqual(log.map((l: { step: number; groups: Group[] }) => [l.step, l.groups.find((g) => g.group === name)!.threshold]));
    }
    const html = readFileSync(path.join(out, 'report/report.html'), 'utf8');
    expect(html).toMatch(/clipping threshold C_m per group \(adaptive\)/);
    expect(html).toMatch(/released share of samples not clipped, per group \(target 50\.0%\)/);
  });

  it('resumes exactly: thresholds, weights and ε of a halted and resumed run equal an uninterrupted one', async () => {
    const t = tinyE2E();
    const base = ['train', '--config', t.config, '--steps', '4', '--noise-multiplier', '1.2', '--gen-limit', '0', '--seed', '4', ...adaptive];
    const full = path.join(t.dir, 'full');
    const split = path.join(t.dir, 'split');
    expect((await run([...base, '--out', full])).code).toBe(0);
    expect((await run([...base, '--out', split, '--halt-after', '2'])).code).toBe(0);
    expect(readJson(path.join(split, 'checkpoint/noise.json')).thresholds.steps).toBe(2);
    const changed = await run([...base.map((a) => (a === '0.5' ? '0.7' : a)), '--out', split, '--resume']);
    expect(changed.code).toBe(2);
    expect(changed.err).toMatch(/--target-quantile differs from the checkpoint \(checkpoint 0\.5, now 0\.7\)/);
    const resumed = await run([...base, '--out', split, '--resume']);
    expect(resumed.err).toBe('');
    const thresholds = (dir: string) => readJsonl(path.join(dir, 'log.jsonl')).map((l) => l.groups.map((g: Group) => [g.threshold, g.unclippedFraction]));
    expect(thresholds(split)).toEqual(thresholds(full));
    const weights = (dir: string) => readSafetensorsFromBuffer(readFileSync(path.join(dir, 'checkpoint/model/model.safetensors')), dir).tensors;
    const a = weights(full);
    const b = weights(split);
    for (const [name, ta] of a) expect(Array.from(b.get(name)!.data as Float32Array)).toEqual(Array.from(ta.data as Float32Array));
    expect(readJson(path.join(split, 'report/privacy.json')).epsilon).toBe(readJson(path.join(full, 'report/privacy.json')).epsilon);
  });

  const cases: [string, string[], RegExp][] = [
    ['quantile flag without adaptive', ['--target-quantile', '0.5'], /--target-quantile applies to --thresholds adaptive only/],
    ['γ outside (0, 1)', ['--thresholds', 'adaptive', '--target-quantile', '1'], /--target-quantile must be a number in \(0, 1\), got '1'/],
    ['σ_b ≤ 0', ['--thresholds', 'adaptive', '--count-noise', '0'], /--count-noise must be a number > 0, got '0'/],
    ['automatic clipping', ['--thresholds', 'adaptive', '--clipping', 'automatic'], /--thresholds adaptive needs --clipping abadi/],
    [
      'σ_eff not achievable with the default σ_b',
      ['--thresholds', 'adaptive', '--epsilon', '4', '--steps', '6'],
      /--count-noise 0\.6 \(the default sqrt\(M\)·B\/20\): the step's noise multiplier σ_eff = [\d.]+ \(from --epsilon or --noise-multiplier\) is not achievable.*countNoise σ_b = 0\.6 is too small/,
    ],
  ];
  it.each(cases)('bad input: %s', async (_name, args, message) => {
    const t = tinyE2E();
    const r = await run(['train', '--config', t.config, '--gen-limit', '0', '--out', path.join(t.dir, 'out'), ...args]);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
  });
});
