import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipwiseDataError } from '../errors.js';
import { readJsonlPromptCompletions, readJsonlTexts } from '../node/read-jsonl.js';
import { parseJsonl } from './jsonl.js';

const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-jsonl-'));
const write = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('JSONL', () => {
  it('reads a text field, skipping blank lines (CRLF too)', async () => {
    const p = write('t.jsonl', '{"text": "a"}\r\n\n{"text": "b", "id": 2}\n');
    expect(await readJsonlTexts(p)).toEqual(['a', 'b']);
    const q = write('c.jsonl', '{"content": "x"}\n');
    expect(await readJsonlTexts(q, { field: 'content' })).toEqual(['x']);
  });

  it('reads prompt/completion fields under configurable names', async () => {
    const p = write('pc.jsonl', '{"q": "2+2?", "a": " 4"}\n{"q": "3+3?", "a": " 6"}\n');
    expect(await readJsonlPromptCompletions(p, { promptField: 'q', completionField: 'a' })).toEqual([
      { prompt: '2+2?', completion: ' 4' },
      { prompt: '3+3?', completion: ' 6' },
    ]);
  });

  it('names the file and line of bad JSON, a missing field or a non-object', async () => {
    const bad = write('bad.jsonl', '{"text": "ok"}\n\n{"text": "oops",}\n');
    await expect(readJsonlTexts(bad)).rejects.toThrow(ClipwiseDataError);
    await expect(readJsonlTexts(bad)).rejects.toThrow(/bad.jsonl:3: invalid JSON/);
    const missing = write('missing.jsonl', '{"text": "ok"}\n{"body": "x"}\n');
    await expect(readJsonlTexts(missing)).rejects.toThrow(/missing.jsonl:2: field "text" is missing \(keys: body\)/);
    const notObject = write('arr.jsonl', '[1, 2]\n');
    await expect(readJsonlTexts(notObject)).rejects.toThrow(/arr.jsonl:1: expected a JSON object/);
    const numeric = write('num.jsonl', '{"text": 5}\n');
    await expect(readJsonlTexts(numeric)).rejects.toThrow(/num.jsonl:1: field "text" is a number, not a string/);
    expect(parseJsonl('', 'e.jsonl')).toEqual([]);
  });
});
