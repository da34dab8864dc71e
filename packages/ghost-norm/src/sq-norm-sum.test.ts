import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SqNormSum } from './sq-norm-sum';

describe('SqNormSum', () => {
  it('sums values (one listed twice), partial sums, squared rows and column sums of dy; frees what it owns, never what it borrows', async () => {
    const v = tf.tensor1d([1, 2]);
    const cross = tf.tensor1d([0.5, -0.25]);
    const partials = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const rows = tf.tensor2d([[1, -1], [2, 0]]);
    const dy = tf.tensor3d([[[1, 2], [3, 4]], [[0, 1], [1, 0]]]); // column sums (4, 6) and (1, 1)
    const before = tf.memory().numTensors;
    const s = new SqNormSum();
    s.add(v);
    s.add(cross, 2);
    s.addTerm({ kind: 'sum', tensor: partials });
    s.addRows(rows);
    s.addTerm({ kind: 'colsq', tensor: dy }, true);
    const sum = s.take()!;
    // sample 0: 1 + 2·0.5 + 6 + 2 + (16 + 36) = 62; sample 1: 2 − 2·0.25 + 15 + 4 + (1 + 1) = 22.5
    expect(Array.from(await sum.data())).toEqual([62, 22.5]);
    sum.dispose();
    // v, cross and partials were owned (freed); rows and dy borrowed (alive)
    expect([v, cross, partials, rows, dy].map((t) => t.isDisposed)).toEqual([true, true, true, false, false]);
    expect(s.take()).toBeNull();
    expect(tf.memory().numTensors).toBe(before - 3);
    tf.dispose([rows, dy]);
  });

  it('hands its terms over with a release that frees only the owned ones; dispose drops the rest', () => {
    const owned = tf.tensor1d([1, 2]);
    const borrowed = tf.tensor2d([[1], [2]]);
    const s = new SqNormSum();
    s.add(owned);
    s.addRows(borrowed);
    const { terms, release } = s.takeTerms();
    expect(terms.map((t) => t.kind)).toEqual(['value', 'sq']);
    release();
    expect([owned.isDisposed, borrowed.isDisposed]).toEqual([true, false]);
    const other = tf.tensor1d([3, 4]);
    s.add(other);
    s.dispose();
    expect(other.isDisposed).toBe(true);
    borrowed.dispose();
  });
});
