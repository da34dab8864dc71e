import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { disposeRecord, recordedBackward, type LayerRecord } from '@clipwise/core';
import { bruteForcePerSampleGrads, paramSqNorms, sqNormsOf } from '@clipwise/ghost-norm';
import { Gpt2Model } from './gpt2-model.js';

const config = { vocab_size: 17, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2 };

describe('GPT-2 on DP-aware layers', () => {
  it('has the Hugging Face parameter names and shapes (tied head once)', async () => {
    const m = new Gpt2Model(config, { seed: 1 });
    const names = m.params.map((p) => `${p.name}:${p.shape.join('x')}`);
    expect(names.slice(0, 4)).toEqual(['transformer.wte.weight:17x8', 'transformer.wpe.weight:8x8', 'transformer.h.0.ln_1.weight:8', 'transformer.h.0.ln_1.bias:8']);
    expect(names).toContain('transformer.h.1.attn.c_attn.weight:8x24');
    expect(names).toContain('transformer.h.1.mlp.c_proj.weight:32x8');
    expect(names.filter((n) => n.startsWith('lm_head'))).toEqual([]);
    expect(m.params).toHaveLength(2 + 12 * 2 + 2);
    m.dispose();
  });

  it('perSampleLoss is the mean next-token cross-entropy over the scored positions (float64 from the logits)', async () => {
    const m = new Gpt2Model(config, { seed: 3 });
    const ids = tf.tensor2d([[1, 5, 9, 2, 16, 0], [3, 3, 7, 11, 4, 8]], [2, 6], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 1]], [2, 6], 'int32');
    const logits = m.logits(ids);
    const [z, idv, mv] = [await logits.data(), await ids.data(), await mask.data()];
    const expected = (masked: boolean) =>
      [0, 1].map((b) => {
        let total = 0;
        let count = 0;
        // position t predicts token t + 1 and is scored when the mask of token t + 1 is 1
        for (let t = 0; t < 5; t++) {
          const w = masked ? mv[b * 6 + t + 1]! : 1;
          const row = Array.from(z.subarray((b * 6 + t) * 17, (b * 6 + t + 1) * 17));
          const max = Math.max(...row);
          const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
          total += w * (lse - row[idv[b * 6 + t + 1]!]!);
          count += w;
        }
        return total / count;
      });
    for (const masked of [false, true]) {
      const loss = m.perSampleLoss(ids as tf.Tensor2D, masked ? (mask as tf.Tensor2D) : undefined);
      const got = await loss.data();
      expected(masked).forEach((e, b) => expect(got[b]).toBeCloseTo(e, 5));
      loss.dispose();
    }
    expect(() => m.perSampleLoss(tf.zeros([1, 1], 'int32') as tf.Tensor2D)).toThrow(/≥ 2 tokens/);
    tf.dispose([ids, mask, logits]);
    m.dispose();
  });

  it('ghost per-sample norms of every parameter equal brute force (attention, tied head)', async () => {
    const m = new Gpt2Model(config, { seed: 2 });
    const ids = tf.tensor2d([[1, 5, 3, 3, 9, 2], [16, 0, 4, 4, 4, 7], [2, 2, 11, 8, 1, 0]], [3, 6], 'int32');
    const records: LayerRecord[] = [];
    recordedBackward(() => tf.sum(m.perSampleLoss(ids)) as tf.Scalar, { onRecord: (r) => records.push(r) }).loss.dispose();
    const brute = bruteForcePerSampleGrads((i) => tf.sum(m.perSampleLoss(ids.slice([i], [1]))) as tf.Scalar, m.params, 3);
    const sq = paramSqNorms(records); // own norms + cross terms of the tied wte / LM head
    let worst = 0;
    for (const p of m.params) {
      const ours = sq.get(p.name)!;
      const want = sqNormsOf(brute.get(p.name)!);
      const e = tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(ours, want)), want)));
      const err = (await e.data())[0]!;
      e.dispose();
      worst = Math.max(worst, err);
      expect(err, p.name).toBeLessThan(1e-4);
      tf.dispose([ours, want]);
    }
    expect(records.filter((r) => Object.values(r.params).some((p) => p.name === 'transformer.wte.weight'))).toHaveLength(2);
    records.forEach(disposeRecord);
    tf.dispose([ids, ...brute.values()]);
    m.dispose();
  });

  it('past the logits limit, runs the LM head on spans of positions: the same losses, per-sample norms equal brute force', async () => {
    const ids = tf.tensor2d([[1, 5, 3, 3, 9, 2], [16, 0, 4, 4, 4, 7], [2, 2, 11, 8, 1, 0]], [3, 6], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 1], [0, 1, 1, 1, 1, 1]], [3, 6], 'int32');
    // one position's logits for 3 samples: 4 · 3 · 17 = 204 bytes; the limit holds 2 positions, so 3 spans
    const spanned = new Gpt2Model(config, { seed: 2, logitsLimitBytes: 2 * 204 });
    const whole = new Gpt2Model(config, { seed: 2 });
    expect([whole.logitsBytes(3, 1), whole.logitsBytes(3, 6)]).toEqual([204, 1224]);
    for (const m of [undefined, mask]) {
      const [a, b] = [spanned.perSampleLoss(ids, m as tf.Tensor2D | undefined), whole.perSampleLoss(ids, m as tf.Tensor2D | undefined)];
      const [got, want] = [await a.data(), await b.data()];
      want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
      tf.dispose([a, b]);
    }
    const records: LayerRecord[] = [];
    recordedBackward(() => tf.sum(spanned.perSampleLoss(ids, mask)) as tf.Scalar, { onRecord: (r) => records.push(r) }).loss.dispose();
    // the tied weight's uses: the embedding and three spans of the head
    expect(records.filter((r) => Object.values(r.params).some((p) => p.name === 'transformer.wte.weight'))).toHaveLength(4);
    // the reference: one sample at a time, whose 6 positions (68 bytes each) fit the limit in one head
    const brute = bruteForcePerSampleGrads((i) => tf.sum(spanned.perSampleLoss(ids.slice([i], [1]), mask.slice([i], [1]))) as tf.Scalar, spanned.params, 3);
    const sq = paramSqNorms(records);
    for (const p of spanned.params) {
      const [ours, want] = [sq.get(p.name)!, sqNormsOf(brute.get(p.name)!)];
      const e = tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(ours, want)), want)));
      expect((await e.data())[0], p.name).toBeLessThan(1e-4);
      tf.dispose([ours, want, e]);
    }
    records.forEach(disposeRecord);
    expect(() => new Gpt2Model(config, { logitsLimitBytes: 100 }).perSampleLoss(ids)).toThrow(/one position's logits for a batch of 3 \(204 bytes, vocabulary 17\) pass the logits limit of 100 bytes/);
    expect(() => new Gpt2Model(config, { logitsLimitBytes: 0 })).toThrow(/logitsLimitBytes must be a positive number/);
    tf.dispose([ids, mask, ...brute.values()]);
    spanned.dispose();
    whole.dispose();
  });

  it('logitsSpanCount follows the limit; setLogitsSpans fixes the span count whatever the batch (a trace at batch 1 then has batch 3\'s structure)', async () => {
    const m = new Gpt2Model(config, { seed: 2, logitsLimitBytes: 2 * 204 });
    // 68 bytes a position a sample: batch 1 fits 6 positions (408 bytes) whole, batch 3 two positions a span
    expect([1, 2, 3].map((b) => m.logitsSpanCount(b, 6))).toEqual([1, 2, 3]);
    expect(() => m.logitsSpanCount(7, 6)).toThrow(/one position's logits for a batch of 7/);
    const ids = tf.tensor2d([[1, 5, 3, 3, 9, 2]], [1, 6], 'int32');
    const headUses = () => {
      const records: LayerRecord[] = [];
      const losses: tf.Tensor[] = [];
      recordedBackward(() => { const l = m.perSampleLoss(ids); losses.push(tf.keep(l.clone())); return tf.sum(l) as tf.Scalar; }, { onRecord: (r) => records.push(r) }).loss.dispose();
      const uses = records.filter((r) => Object.values(r.params).some((p) => p.name === 'transformer.wte.weight')).length;
      records.forEach(disposeRecord);
      return { uses, loss: losses[0]! };
    };
    const whole = headUses();
    m.setLogitsSpans(3);
    const forced = headUses();
    m.setLogitsSpans(100); // clamped to the 6 positions
    const each = headUses();
    m.setLogitsSpans(null);
    const back = headUses();
    // the embedding's use plus the head's spans
    expect([whole.uses, forced.uses, each.uses, back.uses]).toEqual([2, 4, 7, 2]);
    const want = await whole.loss.data();
    for (const r of [forced, each]) (await r.loss.data()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    expect(() => m.setLogitsSpans(0)).toThrow(/logits spans must be a positive integer or null, got 0/);
    expect(() => m.setLogitsSpans(1.5)).toThrow(/got 1.5/);
    tf.dispose([ids, whole.loss, forced.loss, each.loss, back.loss]);
    m.dispose();
  });
});
