import { describe, expect, it } from 'vitest';
import { ByteTokenizer } from '@clipwise/models';
import { TrainingDataError, taskFromData } from '../src/task-from-data';

const tokenizer = new ByteTokenizer();
const csv = (rows: number) => ['mr,ref', ...Array.from({ length: rows }, (_, i) => `"name[R${i}], food[Thai]",R${i} serves Thai food.`)].join('\n');

describe('taskFromData: the page data as a language-model task', () => {
  it('a dropped E2E CSV keeps its last 10% (at least one row) for evaluation, prompting with the first held-out MR', () => {
    const task = taskFromData({ kind: 'file', name: 'mine.csv', text: csv(20) }, tokenizer, 64, 48);
    expect(task.kind).toBe('e2e');
    expect([task.train.n, task.eval!.n]).toEqual([18, 2]);
    expect(task.prompt).toBe('name[R18], food[Thai]');
    const small = taskFromData({ kind: 'file', name: 'mine.csv', text: csv(3) }, tokenizer, 64, 48);
    expect([small.train.n, small.eval!.n]).toEqual([2, 1]);
  });

  it('the sample trains on train.csv and evaluates on the first evalLimit pairs of test.csv', () => {
    const task = taskFromData({ kind: 'sample', trainCsv: csv(30), testCsv: csv(10) }, tokenizer, 64, 4);
    expect([task.train.n, task.eval!.n, task.train.t]).toEqual([30, 4, 64]);
  });

  it('a text file becomes blocks of seqLen bytes, its last 10% held out', () => {
    const text = 'To be, or not to be, that is the question. '.repeat(40); // 1720 bytes
    const task = taskFromData({ kind: 'file', name: 'play.txt', text }, tokenizer, 32, 48);
    expect(task.kind).toBe('text');
    expect(task.train.t).toBe(32);
    expect(task.train.n).toBeGreaterThan(40);
    expect(task.eval!.n).toBeGreaterThan(1);
    expect(task.prompt).toBe(text.slice(Math.floor(text.length * 0.9), Math.floor(text.length * 0.9) + 64));
  });

  it('says what is wrong with bad data', () => {
    expect(() => taskFromData({ kind: 'file', name: 'one.csv', text: csv(1) }, tokenizer, 64, 48)).toThrow(/one\.csv: 1 \(mr, ref\) rows; need at least 2/);
    expect(() => taskFromData({ kind: 'file', name: 'bad.csv', text: 'a,b\n1,2\n' }, tokenizer, 64, 48)).toThrow(TrainingDataError);
    expect(() => taskFromData({ kind: 'file', name: 'bad.csv', text: 'a,b\n1,2\n' }, tokenizer, 64, 48)).toThrow(/lacks an "mr" or "ref" column/);
    expect(() => taskFromData({ kind: 'file', name: 'short.txt', text: 'too short' }, tokenizer, 64, 48)).toThrow(/short\.txt, training part: the text has 8 tokens, fewer than one block of 64/);
    expect(() => taskFromData({ kind: 'file', name: 'long.csv', text: csv(5) }, tokenizer, 8, 48)).toThrow(/long\.csv, training part: .*8/);
  });
});
