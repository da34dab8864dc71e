import { describe, expect, it } from 'vitest';
import { ClipwiseDataError } from '../errors.js';
import { parseCsv } from './csv.js';

const fields = (text: string) => parseCsv(text, 't.csv').map((r) => r.fields);

describe('parseCsv (RFC 4180)', () => {
  it('splits on commas and line ends (LF, CRLF, CR), skipping a BOM and empty lines', () => {
    expect(fields('\ufeffa,b\r\nc,d\n\ne,f\rg,\n')).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g', '']]);
  });

  it('handles quoted fields with commas, line breaks and doubled quotes, and tracks line numbers', () => {
    const rows = parseCsv('x,"a, b"\n"multi\nline","say ""hi"""\nlast,""\n', 't.csv');
    expect(rows.map((r) => r.fields)).toEqual([['x', 'a, b'], ['multi\nline', 'say "hi"'], ['last', '']]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('keeps a quote inside an unquoted field literally', () => {
    expect(fields('he said "no",ok\n')).toEqual([['he said "no"', 'ok']]);
  });

  it('names the line of an unclosed quote or stray text after a closing quote', () => {
    expect(() => fields('a,b\n"open,c\nd\n')).toThrow(ClipwiseDataError);
    expect(() => fields('a,b\n"open,c\nd\n')).toThrow(/t.csv:2: quoted field never closed/);
    expect(() => fields('a,b\nx,"q"z\n')).toThrow(/t.csv:2: unexpected "z" after a closing quote/);
  });
});
