import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { lineProgress } from '../src/progress/progress';

const fixture = path.resolve(__dirname, '../../../packages/models/__fixtures__/tiny-gpt2');

/** Runs the CLI as on a terminal: `status` gets the progress line (null: cleared). */
async function runWithStatus(args: string[]): Promise<{ code: number; out: string; err: string; status: Array<string | null> }> {
  let out = '';
  let err = '';
  const status: Array<string | null> = [];
  const code = await main(args, (s) => (out += s + '\n'), (s) => (err += s + '\n'), (l) => status.push(l));
  return { code, out, err, status };
}

describe('progress of long phases (issue #20)', () => {
  it('lineProgress draws at most one line per interval, shows counts or percentages, and clears at the end', () => {
    let t = 0;
    const lines: Array<string | null> = [];
    const p = lineProgress((l) => lines.push(l), 100, () => t);
    p.update('loading', 0, 5000);
    t = 50;
    p.update('loading', 2000, 5000); // within the interval: not drawn
    t = 150;
    p.update('loading', 2050, 5000);
    p.end();
    p.end(); // nothing shown since: nothing to clear
    t = 300;
    p.update('calibrating σ, evaluation', 7);
    p.end();
    expect(lines).toEqual(['loading: 0% (0/5,000)', 'loading: 41% (2,050/5,000)', null, 'calibrating σ, evaluation 7', null]);
  });

  it('norms shows loading the checkpoint on a terminal, and nothing with --json', async () => {
    const ref = JSON.parse(readFileSync(path.join(fixture, 'reference.json'), 'utf8'));
    const input = path.join(mkdtempSync(path.join(tmpdir(), 'clipwise-progress-')), 'input.json');
    writeFileSync(input, JSON.stringify({ input_ids: ref.input_ids }));
    const table = await runWithStatus(['norms', '--model', fixture, '--input', input]);
    expect(table.code).toBe(0);
    expect(table.status[0]).toMatch(/^loading .*tiny-gpt2, parameters: 0% \(0\/[\d,]+\)$/);
    expect(table.status.at(-1)).toBeNull();
    const json = await runWithStatus(['norms', '--model', fixture, '--input', input, '--json']);
    expect(json.code).toBe(0);
    expect(json.status).toEqual([]);
    JSON.parse(json.out);
  });

  it('bench shows the tape tracing, and clears the line before its table', async () => {
    const shape = ['--backend', 'cpu', '--model-config', '{"n_embd":16,"n_layer":1,"n_head":2}', '--batch-size', '2', '--seq-len', '8', '--reps', '1', '--warmup', '0', '--groupings', 'all-layer'];
    const r = await runWithStatus(['bench', ...shape]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.status).toContain('tracing the tape at batch 1, tape nodes: 0% (0/' + r.status[0]!.split('/')[1]);
    expect(r.status.some((l) => l?.startsWith('tracing the tape at batch 2, tape nodes: '))).toBe(true);
    expect(r.status.at(-1)).toBeNull();
  });
});
