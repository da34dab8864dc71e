import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { clearMatmulTuning, matmulVariantTuningEnabled, planMatmul, recordMatmulProblems, setMatmulChoice, setMatmulVariantTuning, type MatmulProblem, type MatmulProductVariant } from './matmul-plan';
import { autotuneMatmul, formatMatmulTuning } from './matmul-autotune';
import { productVariantReplay } from '../../fused/product-variant-replay';
import { clippedOuterSumWithBias } from '../../fused/clipped-outer-sum';
import { clippedOuterSumWithBiasFromTerms } from '../../fused/clipped-outer-sum-from-terms';
import { relErr } from '../../../../../tooling/test/rel-err';

const BINDING = 2 ** 31 - 4;
// a weight gradient over B·T = 16·128 rows with the bias's row of ones: GPT-2 small's c_fc
const plain: MatmulProblem = { batch: 1, m: 769, n: 3072, k: 2048, transposeA: true, transposeB: false, strided: false };
const clip: MatmulProductVariant = { kind: 'clip', group: 128, ones: 'row', width: 13, apartFrom: 0 };
const kScale: MatmulProductVariant = { kind: 'k-scale', group: 128, ones: 'row' };
const plan = (variant?: MatmulProductVariant, m = plain.m) => planMatmul(1, m, plain.n, plain.k, BINDING, true, false, variant).tileName;

describe('matmul variant tuning: scaled products tuned apart from plain ones', () => {
  afterEach(() => {
    clearMatmulTuning();
    setMatmulVariantTuning(null);
  });

  it('is on by default', () => {
    expect(matmulVariantTuningEnabled()).toBe(true);
  });

  it('records a scaled product as its plain shape and as itself, and a plain one once', () => {
    recordMatmulProblems(true);
    plan(clip);
    plan(clip);
    plan(kScale);
    plan();
    const seen = recordMatmulProblems(false);
    expect(seen).toEqual([plain, { ...plain, variant: clip }, { ...plain, variant: kScale }]);
  });

  it('plans a scaled product by its own tuned choice only when variant tuning is on, else by its shape\'s plain choice', () => {
    const heuristic = plan();
    expect(heuristic).not.toBe('medium16w');
    expect(heuristic).not.toBe('xtall8w');
    setMatmulChoice(plain, { tile: 'medium16w', splits: 1 });
    setMatmulChoice({ ...plain, variant: clip }, { tile: 'xtall8w', splits: 1 });
    // off: the plain choice for every product of the shape
    setMatmulVariantTuning(false);
    expect([plan(), plan(clip), plan(kScale)]).toEqual(['medium16w', 'medium16w', 'medium16w']);
    setMatmulVariantTuning(true);
    expect(plan(clip)).toBe('xtall8w');
    expect(plan(clip, 700)).toBe('xtall8w'); // a neighbour in M of the same variant
    expect(plan()).toBe('medium16w');
    // another variant, or the same kind with other partials: not this choice; the plain one instead
    expect(plan(kScale)).toBe('medium16w');
    expect(plan({ ...clip, width: 14 })).toBe('medium16w');
    expect(plan({ ...clip, apartFrom: 10 })).toBe('medium16w');
    setMatmulVariantTuning(false);
    expect(plan(clip)).toBe('medium16w');
    clearMatmulTuning();
    setMatmulVariantTuning(true);
    expect(plan(clip)).toBe(heuristic);
  });

  it('replays a recorded scaled product on operands of its shapes, through the op that ran it', async () => {
    // k-scale, ones row: x [B, T, d], y [B, T, q] with M = d + 1, K = B·T
    const k = productVariantReplay({ batch: 1, m: 9, n: 5, k: 12, transposeA: true, transposeB: false, strided: false, variant: { kind: 'k-scale', group: 3, ones: 'row' } })!;
    const [weight, bias] = k.run();
    expect([weight!.shape, bias!.shape]).toEqual([[8, 5], [5]]);
    tf.dispose([weight!, bias!]);
    k.dispose();
    // clip, ones column (an [out, in] weight: the bias sums x), the bias clipped apart: five outputs
    const c = productVariantReplay({ batch: 1, m: 6, n: 8, k: 8, transposeA: true, transposeB: false, strided: false, variant: { kind: 'clip', group: 4, ones: 'col', width: 5, apartFrom: 3 } })!;
    const outs = c.run();
    expect(outs.map((t) => t.shape)).toEqual([[6, 7], [6], [2], [2], [2]]);
    expect((await outs[3]!.data()).every((f) => f > 0 && f <= 1)).toBe(true); // clip factors
    tf.dispose(outs);
    c.dispose();
    // not a Book-Keeping product: nothing to replay
    expect(productVariantReplay(plain)).toBeNull();
    expect(productVariantReplay({ ...plain, k: 2000, variant: kScale })).toBeNull(); // K not B·T
    expect(productVariantReplay({ ...plain, batch: 2, variant: kScale })).toBeNull();
  });

  it('autotuneMatmul tunes a step\'s scaled products as they run and keeps them exact (webgpu; elsewhere nothing to tune)', async () => {
    const [b, t, d, q] = [3, 5, 10, 7];
    const x = tf.randomNormal([b, t, d], 0, 1, 'float32', 21) as tf.Tensor3D;
    const y = tf.randomNormal([b, t, q], 0, 1, 'float32', 22) as tf.Tensor3D;
    const partials = tf.randomUniform([b, 4], 0, 2, 'float32', 23) as tf.Tensor2D;
    const c = tf.tensor1d([0.3, 1, 0.7]);
    const epilogue = { threshold: 1, automatic: false, gamma: 0 };
    const step = () => [...Object.values(clippedOuterSumWithBiasFromTerms(x, y, partials, epilogue)), ...Object.values(clippedOuterSumWithBias(x, y, c))];
    setMatmulVariantTuning(true);
    const rows = await autotuneMatmul(async () => {
      const outs = step();
      await outs[0]!.data();
      tf.dispose(outs);
    }, { minMs: 0, trials: 1, tiles: ['small', 'medium16w'], variants: true });
    if (tf.getBackend() !== 'webgpu') {
      expect(rows).toEqual([]);
    } else {
      expect(rows.map((r) => r.problem.variant?.kind ?? 'plain')).toEqual(['plain', 'clip', 'k-scale']);
      expect(formatMatmulTuning(rows)).toContain(`| 1×${d + 1}×${q}×${b * t} (1, 0) clip |`);
    }
    // float64: Σ_i c_i x_iᵀ y_i and Σ_i c_i Σ_t y_it, c_i = min(1, 1 / ‖partials_i‖) for the clip product
    const [xv, yv, pv] = [await x.data(), await y.data(), await partials.data()];
    const factors = Array.from({ length: b }, (_, i) => Math.min(1, 1 / Math.sqrt(pv[4 * i]! + pv[4 * i + 1]! + pv[4 * i + 2]! + pv[4 * i + 3]!)));
    const expected = (cs: number[]) => {
      const w = new Float64Array(d * q);
      const bias = new Float64Array(q);
      for (let i = 0; i < b; i++)
        for (let s = 0; s < t; s++)
          for (let j = 0; j < q; j++) {
            const yy = cs[i]! * yv[(i * t + s) * q + j]!;
            bias[j] += yy;
            for (let r = 0; r < d; r++) w[r * q + j] += xv[(i * t + s) * d + r]! * yy;
          }
      return [w, bias];
    };
    const outs = step(); // tuned plans (variant tuning on)
    const [w1, b1] = expected(factors);
    const [w2, b2] = expected([0.3, 1, 0.7]);
    expect(relErr(await outs[0]!.data(), w1!)).toBeLessThan(1e-5);
    expect(relErr(await outs[1]!.data(), b1!)).toBeLessThan(1e-5);
    expect(relErr(await outs[3]!.data(), Float64Array.from(factors))).toBeLessThan(1e-5);
    expect(relErr(await outs[4]!.data(), w2!)).toBeLessThan(1e-5);
    expect(relErr(await outs[5]!.data(), b2!)).toBeLessThan(1e-5);
    tf.dispose([...outs, x, y, partials, c]);
  });
});
