import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset, jsonSyntaxProblem, parseJsonText } from '../src/json-text';
import { RunLog } from '../src/train/run-log';
import { run, tinyE2E } from './train-helpers';

const problem = (text: string) => {
  try {
    JSON.parse(text);
  } catch (e) {
    return jsonSyntaxProblem(text, e);
  }
  throw new Error('parsed');
};

describe('jsonSyntaxProblem: where JSON.parse failed, as line and column', () => {
  it('turns V8\'s character position into the line and column of the offending character', () => {
    // Character 22 (0-based) is the `"` of "steps", on line 3 after two spaces.
    expect(problem('{\n  "data": "a.csv"\n  "steps": 2\n}')).toEqual({ reason: "Expected ',' or '}' after property value", line: 3, column: 3 });
  });

  it('puts a truncated text\'s problem at its end, and says it is truncated', () => {
    expect(problem('{"a": [1,\n 2')).toEqual({ reason: 'the text ends before the JSON value is complete (truncated?)', line: 2, column: 3 });
    expect(problem('  \n')).toMatchObject({ reason: 'the text is empty' });
  });

  it('jsonErrorOffset agrees with JSON.parse: valid exactly when it parses, and at V8\'s position where V8 gives one (5000 damaged texts)', () => {
    const seeds = [JSON.stringify({ a: [1, -2.5e3, true, null, 'x\\"é\n'], b: { c: 'd' }, e: [] }, null, 2), '[0, 1.5, -0, 1e+5, "\\u00ff"]'];
    const alphabet = ' {}[],:"\\0123456789.-+eEtrufalsn\n\tx';
    let state = 1;
    const random = (n: number) => Math.floor(((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    let positioned = 0;
    for (let k = 0; k < 5000; k++) {
      const seed = seeds[k % seeds.length]!;
      const i = random(seed.length);
      const c = alphabet[random(alphabet.length)]!;
      const text = [seed.slice(0, i), seed.slice(0, i) + c + seed.slice(i + 1), seed.slice(0, i) + c + seed.slice(i)][k % 3]!;
      let v8: number | null | undefined; // undefined: parsed; null: an error without a position
      try {
        JSON.parse(text);
      } catch (e) {
        v8 = Number(/at position (\d+)/.exec((e as Error).message)?.[1] ?? Number.NaN);
        if (Number.isNaN(v8)) v8 = null;
      }
      const offset = jsonErrorOffset(text);
      expect(offset === -1, text).toBe(v8 === undefined);
      if (typeof v8 === 'number') {
        positioned++;
        expect(offset, text).toBe(v8);
      }
    }
    expect(positioned).toBeGreaterThan(1000);
  });

  it('parseJsonText names the source', () => {
    expect(() => parseJsonText('[1, 2,]', 'x.json')).toThrow(/^x\.json: not valid JSON \(Unexpected token '?\]'?.* at line 1, column 7\)$/);
    expect(parseJsonText('[1, 2]', 'x.json')).toEqual([1, 2]);
  });
});

describe('RunLog.read', () => {
  const logWith = (text: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'clipwise-log-')), 'log.jsonl');
    writeFileSync(file, text);
    return new RunLog<{ step: number }>(file);
  };

  it('names the line and column of a record that is not JSON', () => {
    expect(() => logWith('{"step":1}\n{"step":2,,}\n{"step":3}\n').read()).toThrow(/log\.jsonl: line 2 is not valid JSON \(.* at column 11\)\. Fix: repair or delete that line/);
  });

  it('leaves out an unfinished last line (an append cut by a crash) and keeps the rest', () => {
    expect(logWith('{"step":1}\n{"step":2}\n{"step":3,"lo').read().map((r) => r.step)).toEqual([1, 2]);
  });
});

describe('the CLI names the line and column of a broken JSON file it reads', () => {
  it('--model DIR whose config.json is cut short (exit 2)', async () => {
    const t = tinyE2E();
    const model = mkdtempSync(path.join(tmpdir(), 'clipwise-model-'));
    writeFileSync(path.join(model, 'config.json'), '{"model_type": "gpt2",\n "n_embd": 1');
    const r = await run(['train', '--data', t.train, '--model', model, '--out', path.join(t.dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--model \S+: \S+config\.json: not valid JSON \(the text ends before the JSON value is complete \(truncated\?\) at line 2, column 13\)/);
  });

  it('norms --input with a stray bracket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-input-'));
    const input = path.join(dir, 'input.json');
    writeFileSync(input, '{"input_ids": [[1, 2]]]}');
    const r = await run(['norms', '--model', dir, '--input', input]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--input \S+input\.json: not valid JSON \(.* at line 1, column 23\)/);
  });
});
