import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Gpt2Model } from '@clipwise/models';
import { bannedNextTokens, copyBonus, greedyGenerate, greedyGenerateMany, type GenerationRequest } from '../src/train/text-eval';

// A random tiny GPT-2 whose context (16) some prompts nearly fill, so decoding stops there too.
const model = new Gpt2Model({ vocab_size: 29, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2 }, { seed: 11 });
afterAll(() => model.dispose());

/**
 * The reference: one prompt at a time, the whole sequence's logits each step and the last position's
 * arg max (first index on ties), with the same n-gram blocking and copy bias; written out here, not
 * through the batched code.
 */
async function reference(req: GenerationRequest, maxNew: number, eot: number, noRepeatNgram: number): Promise<number[]> {
  const out = [...req.prompt];
  const generated: number[] = [];
  while (generated.length < maxNew && out.length < model.config.n_positions) {
    const logits = model.logits(tf.tensor2d(out, [1, out.length], 'int32'));
    const all = (await logits.data()) as Float32Array;
    logits.dispose();
    const vocab = model.config.vocab_size;
    const scores = all.subarray((out.length - 1) * vocab, out.length * vocab);
    const banned = bannedNextTokens(generated, noRepeatNgram);
    const argmax = (bonus: Map<number, number>) => {
      let best = -1;
      for (let v = 0; v < vocab; v++) {
        if (banned.has(v)) continue;
        if (best < 0 || scores[v]! + (bonus.get(v) ?? 0) > scores[best]! + (bonus.get(best) ?? 0)) best = v;
      }
      return best;
    };
    let next = argmax(req.copy ? copyBonus(generated, req.copy.values, req.copy.bias, false) : new Map());
    if (req.copy?.capitalised(next)) next = argmax(copyBonus(generated, req.copy.values, req.copy.bias, true));
    if (next === eot) break;
    out.push(next);
    generated.push(next);
  }
  return generated;
}

// lengths 1 to 14 of 16: the long ones run out of context before maxNew
const prompts = [[3], [5, 9, 2], [1, 1, 1, 1, 1, 1, 1], [7, 20, 4, 11, 0, 28, 13, 6, 2, 19, 21, 5], [8, 8, 3, 14, 2, 27, 1, 9, 9, 4, 12, 3, 16, 25]];
// one prompt copies values (tokens 4 5 and 17), offered where the model would write an odd token
const copy = { values: [[4, 5], [17]], bias: 3, capitalised: (t: number) => t % 2 === 1 };
const requests: GenerationRequest[] = prompts.map((prompt, i) => (i === 1 ? { prompt, copy } : { prompt }));

describe('greedyGenerateMany (batched greedy decoding)', () => {
  it('gives every prompt the tokens that decoding it alone gives, at any batch size', async () => {
    for (const noRepeatNgram of [0, 2]) {
      // an eot the model does produce, so that some rows stop early while others go on
      const free = await Promise.all(requests.map((r) => reference(r, 8, -1, noRepeatNgram)));
      const eot = free[0]![2]!;
      const expected = await Promise.all(requests.map((r) => reference(r, 8, eot, noRepeatNgram)));
      expect(expected.map((g) => g.length)).not.toEqual(free.map((g) => g.length)); // the eot ends some rows
      expect(free[4]!.length).toBe(16 - prompts[4]!.length); // the context ends this one
      for (const batch of [1, 2, 32]) {
        expect(await greedyGenerateMany(model, requests, 8, eot, { noRepeatNgram, batch })).toEqual(expected);
      }
      for (const [k, r] of requests.entries()) {
        expect(await greedyGenerate(model, [...r.prompt], 8, eot, { noRepeatNgram, copy: r.copy })).toEqual(expected[k]);
      }
    }
  });

  it('runs one forward pass per step over the rows still decoding, and calls afterStep after each read', async () => {
    let steps = 0;
    const out = await greedyGenerateMany(model, requests, 5, -1, { afterStep: () => steps++ });
    // no eot, and the longest prompt (14) fills the context after 2 tokens: 5 steps for the others
    expect(out.map((g) => g.length)).toEqual([5, 5, 5, 4, 2]);
    expect(steps).toBe(5);
  });

  it('names bad arguments', async () => {
    await expect(greedyGenerateMany(model, requests, 4, 0, { batch: 0 })).rejects.toThrow(/batch must be a positive integer, got 0/);
    await expect(greedyGenerateMany(model, [{ prompt: [1] }, { prompt: [] }], 4, 0)).rejects.toThrow(/prompt 1 is empty/);
    expect(await greedyGenerateMany(model, [], 4, 0)).toEqual([]);
  });
});
