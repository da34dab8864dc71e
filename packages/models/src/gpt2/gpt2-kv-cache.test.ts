import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Gpt2KvCache } from './gpt2-kv-cache.js';
import { Gpt2Model } from './gpt2-model.js';

// head size 6 (not a power of two), a context some rows nearly fill
const model = new Gpt2Model({ vocab_size: 23, n_positions: 12, n_embd: 12, n_layer: 2, n_head: 2 }, { seed: 5 });
afterAll(() => model.dispose());

/** The reference: the whole sequence alone through `Gpt2Model.logits` (no cache, no padding); its last position's scores. */
async function lastLogits(tokens: readonly number[]): Promise<Float32Array> {
  const ids = tf.tensor2d(Array.from(tokens), [1, tokens.length], 'int32');
  const z = model.logits(ids);
  const all = (await z.data()) as Float32Array;
  tf.dispose([ids, z]);
  return all.subarray((tokens.length - 1) * 23);
}

async function expectRowsMatch(logits: tf.Tensor2D, sequences: readonly (readonly number[])[]): Promise<void> {
  expect(logits.shape).toEqual([sequences.length, 23]);
  const got = (await logits.data()) as Float32Array;
  logits.dispose();
  for (const [r, s] of sequences.entries()) {
    const want = await lastLogits(s);
    const row = got.subarray(r * 23, (r + 1) * 23);
    for (let v = 0; v < 23; v++) expect(row[v]).toBeCloseTo(want[v]!, 4);
  }
}

describe('Gpt2KvCache (incremental decoding)', () => {
  it('gives every row, left-padded beside longer ones, the logits of its whole sequence alone, at prefill and after each step', async () => {
    const rows = [[3], [7, 1, 22, 9, 4], [0, 15, 15]];
    const before = tf.memory().numTensors;
    const { cache, logits } = Gpt2KvCache.prefill(model, rows);
    await expectRowsMatch(logits, rows);
    const added = [
      [5, 6, 7],
      [2, 2, 2],
      [19, 0, 11],
    ];
    for (const tokens of added) {
      tokens.forEach((t, r) => rows[r]!.push(t));
      await expectRowsMatch(cache.step(tokens), rows);
    }
    expect(cache.lengths).toEqual([4, 8, 6]);
    // drop the longest row (and with it two columns that are padding in both others), reorder the rest
    cache.keepRows([2, 0]);
    expect(cache.rows).toBe(2);
    expect(cache.lengths).toEqual([6, 4]);
    const kept = [rows[2]!, rows[0]!];
    kept[0]!.push(8);
    kept[1]!.push(13);
    await expectRowsMatch(cache.step([8, 13]), kept);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs a row up to n_positions and says when it is full', async () => {
    const row = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const { cache, logits } = Gpt2KvCache.prefill(model, [row]);
    logits.dispose();
    row.push(12);
    await expectRowsMatch(cache.step([12]), [row]);
    expect(() => cache.step([1])).toThrow(/row 0 already has n_positions \(12\) tokens; drop it with keepRows/);
    cache.dispose();
  });

  it('names bad input', () => {
    expect(() => Gpt2KvCache.prefill(model, [])).toThrow(/no prompts/);
    expect(() => Gpt2KvCache.prefill(model, [[1], []])).toThrow(/prompt 1 is empty/);
    expect(() => Gpt2KvCache.prefill(model, [Array.from({ length: 13 }, () => 1)])).toThrow(/prompt 0 has 13 tokens, more than n_positions 12/);
    const { cache, logits } = Gpt2KvCache.prefill(model, [[1], [2]]);
    logits.dispose();
    expect(() => cache.step([1])).toThrow(/1 tokens for 2 rows/);
    expect(() => cache.keepRows([2])).toThrow(/row 2 is not one of the cache's 2 rows/);
    expect(() => cache.keepRows([])).toThrow(/no rows/);
    cache.dispose();
    expect(() => cache.step([1, 2])).toThrow(/the cache was disposed; prefill a new one/);
  });
});
