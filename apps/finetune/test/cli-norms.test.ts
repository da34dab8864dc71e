import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli';

const fixture = path.resolve(__dirname, '../../../packages/models/__fixtures__/tiny-gpt2');

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return main(args, (s) => (out += s + '\n'), (s) => (err += s + '\n')).then((code) => ({ code, out, err }));
}

describe('clipwise norms', () => {
  it('matches the PyTorch float64 per-sample norms of the fixture checkpoint (rel. err < 1e-3)', async () => {
    const ref = JSON.parse(readFileSync(path.join(fixture, 'reference.json'), 'utf8'));
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-norms-'));
    const input = path.join(dir, 'input.json');
    writeFileSync(input, JSON.stringify({ input_ids: ref.input_ids }));
    const { code, out, err } = await run(['norms', '--model', fixture, '--input', input, '--grouping', 'layer-wise', '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    for (const [name, want] of Object.entries(ref.per_sample_param_norms as Record<string, number[]>)) {
      want.forEach((w, i) => expect(Math.abs(result.per_sample_param_norms[name][i] - w) / w, name).toBeLessThan(1e-3));
    }
    ref.loss_per_sample.forEach((w: number, i: number) => expect(result.loss_per_sample[i]).toBeCloseTo(w, 4));
    expect(Object.keys(result.per_sample_group_norms)).toContain('transformer.h.0.attn.c_attn');
    const table = await run(['norms', '--model', fixture, '--input', input, '--grouping', 'all-layer']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/median/);
  });

  it('names the missing or bad argument', async () => {
    expect((await run(['norms', '--input', 'x.json'])).err).toMatch(/--model DIR is required/);
    const bad = await run(['norms', '--model', fixture, '--input', '/nonexistent.json']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/nonexistent\.json/);
    expect((await run(['demo', '--epsilon=-1'])).err).toMatch(/--epsilon must be a number > 0, got '-1'/);
    expect((await run(['frobnicate'])).code).toBe(2);
  });
});
