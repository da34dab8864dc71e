import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { setMatmulTileOverride, type MatmulTileName } from '../webgpu/matmul/matmul-plan';
import { setStagedClipPrologue } from '../webgpu/clip-factor-wgsl';
import { clippedOuterSumWithBiasFromTerms } from './clipped-outer-sum-from-terms';
import { ghostSqNormPartials } from './ghost-sq-norm';
import { relErr } from '../../../../tooling/test/rel-err';

const webgpu = () => tf.getBackend() === 'webgpu';

/** Float64 per-sample gradients: G_i = Σ_t x_itᵀ y_it [m·n] and the bias rows Σ_t (y or x)_it, with their squared norms. */
function perSampleGrads(xv: Float32Array, yv: Float32Array, [b, t, m, n]: number[], biasOf: 'x' | 'y') {
  const width = biasOf === 'y' ? n : m;
  const src = biasOf === 'y' ? yv : xv;
  return Array.from({ length: b }, (_, i) => {
    const g = new Float64Array(m * n);
    const gb = new Float64Array(width);
    for (let r = 0; r < t; r++) {
      const row = i * t + r;
      for (let p = 0; p < m; p++) for (let q = 0; q < n; q++) g[p * n + q] += xv[row * m + p]! * yv[row * n + q]!;
      for (let q = 0; q < width; q++) gb[q] += src[row * width + q]!;
    }
    const sq = (v: Float64Array) => v.reduce((s, x) => s + x * x, 0);
    return { g, gb, sqW: sq(g), sqB: sq(gb) };
  });
}

/**
 * Float64 reference: per-sample norms, factors and the clipped sums, the weight's and the bias's together
 * (one factor from their joint norm) or, with `clipBias`, each from its own norm (`biasNorms`).
 */
function reference(xv: Float32Array, yv: Float32Array, shape: number[], biasOf: 'x' | 'y', clip: (norm: number) => number, clipBias?: (norm: number) => number) {
  const [, , m, n] = shape as [number, number, number, number];
  const weight = new Float64Array(m * n);
  const bias = new Float64Array(biasOf === 'y' ? n : m);
  const norms: number[] = [];
  const factors: number[] = [];
  const biasNorms: number[] = [];
  for (const { g, gb, sqW, sqB } of perSampleGrads(xv, yv, shape, biasOf)) {
    const norm = Math.sqrt(clipBias ? sqW : sqW + sqB);
    const c = clip(norm);
    const nb = Math.sqrt(sqB);
    const cb = clipBias ? clipBias(nb) : c;
    norms.push(norm);
    factors.push(c);
    biasNorms.push(nb);
    g.forEach((v, k) => (weight[k] += c * v));
    gb.forEach((v, k) => (bias[k] += cb * v));
  }
  return { weight, bias, norms, factors, biasNorms };
}

/** [B, W] partials whose rows sum to the squared norms (uneven shares, one negative: ghost partials of off-diagonal tiles can be). */
function splitRows(sq: number[], w: number): tf.Tensor2D {
  const shares = Array.from({ length: w }, (_, k) => (k === 1 ? -0.25 : 1 + k));
  const total = shares.reduce((s, v) => s + v, 0);
  return tf.tensor2d(sq.flatMap((s) => shares.map((v) => (s * v) / total)), [sq.length, w]);
}

describe('clippedOuterSumWithBiasFromTerms: clipped weight and bias sums, norms and factors from partials, against float64', () => {
  afterEach(() => {
    setMatmulTileOverride(null);
    setStagedClipPrologue(null);
  });
  // [B, T, m, n], the partials' width, a forced tile and split count (split-K where K = B·T allows)
  const cases: [number[], number, { tile: MatmulTileName; splits: number } | null][] = [
    [[1, 1, 3, 2], 1, null],
    [[3, 5, 20, 17], 3, null],
    [[5, 1, 13, 6], 4, null],
    [[2, 7, 8, 30], 2, { tile: 'small', splits: 1 }],
    [[3, 20, 20, 17], 5, { tile: 'small', splits: 3 }],
    [[4, 130, 36, 40], 7, { tile: 'medium', splits: 4 }],
    [[6, 9, 24, 16], 2, { tile: 'medium16w', splits: 2 }],
    // bk-16 tiles of 32 KB: their bk-8 twins run it, still one launch
    [[3, 20, 20, 17], 5, { tile: 'large', splits: 2 }],
    [[2, 9, 24, 16], 3, { tile: 'large16w', splits: 1 }],
    // B·W past the small tile's 64 threads but within its staging: several staged loads a thread
    [[20, 3, 6, 5], 10, { tile: 'small', splits: 1 }],
    // B·W past the 1,024 floats of the small tile's staging: each sample's thread reads its row in global memory, staged or not
    [[40, 2, 6, 5], 30, { tile: 'small', splits: 1 }],
  ];
  // the prologue's two forms: each sample's thread walks its partials (the default), or every thread stages them first
  for (const staged of [false, true])
    for (const [shape, w, tile] of cases)
      for (const biasOf of ['y', 'x'] as const)
        for (const automatic of [false, true]) {
          const [b, t, m, n] = shape as [number, number, number, number];
          it(`x [${b}, ${t}, ${m}], y [${b}, ${t}, ${n}], W ${w}, bias of ${biasOf}, ${automatic ? 'automatic' : 'abadi'}${tile ? `, ${tile.tile} × ${tile.splits}` : ''}${staged ? ', partials staged' : ''}`, async () => {
            setStagedClipPrologue(staged);
            const x = tf.randomNormal([b, t, m], 0, 1, 'float32', 7) as tf.Tensor3D;
            const y = tf.randomNormal([b, t, n], 0, 1, 'float32', 8) as tf.Tensor3D;
            const [xv, yv] = (await Promise.all([x.data(), y.data()])) as Float32Array[];
            // the threshold between two samples' norms, so that some clip and some do not
            const probe = reference(xv!, yv!, shape, biasOf, () => 1).norms;
            const sorted = [...probe].sort((p, q) => p - q);
            const threshold = b === 1 ? sorted[0]! / 2 : (sorted[0]! + sorted[1]!) / 2;
            const gamma = 0.01;
            const clip = { threshold, gamma, automatic };
            const ref = reference(xv!, yv!, shape, biasOf, (nrm) => (automatic ? threshold / (nrm + gamma) : threshold / Math.max(nrm, threshold)));
            const partials = splitRows(probe.map((v) => v * v), w);
            if (tile) setMatmulTileOverride(tile);
            const before = tf.memory().numTensors;
            let out!: ReturnType<typeof clippedOuterSumWithBiasFromTerms>;
            const profile = await tf.profile(() => void (out = clippedOuterSumWithBiasFromTerms(x, y, partials, clip, { biasOf })));
            // one launch on webgpu (with split-K, its sum inside the same kernel)
            if (webgpu()) expect(profile.kernels.map((k) => k.name).filter((k) => k !== 'Reshape')).toEqual(['ClipwiseClippedOuterSumBiasClip']);
            expect(out.weight.shape).toEqual([m, n]);
            expect(out.bias.shape).toEqual([biasOf === 'y' ? n : m]);
            const [wv, bv, nv, fv] = await Promise.all([out.weight.data(), out.bias.data(), out.norms.data(), out.factors.data()]);
            // float32 sums of B·T products and of W partials: 1e-5 relative
            expect(relErr(wv, ref.weight)).toBeLessThan(1e-5);
            expect(relErr(bv, ref.bias)).toBeLessThan(1e-5);
            expect(relErr(nv, ref.norms)).toBeLessThan(1e-5);
            expect(relErr(fv, ref.factors)).toBeLessThan(1e-5);
            tf.dispose([out.weight, out.bias, out.norms, out.factors]);
            expect(tf.memory().numTensors).toBe(before);
            tf.dispose([x, y, partials]);
          });
        }

    it('past 1024 samples, takes the two launches, with the same results', async () => {
      const [b, t, m, n] = [1100, 1, 5, 3];
      const x = tf.randomNormal([b, t, m], 0, 1, 'float32', 11) as tf.Tensor3D;
      const y = tf.randomNormal([b, t, n], 0, 1, 'float32', 12) as tf.Tensor3D;
      const [xv, yv] = (await Promise.all([x.data(), y.data()])) as Float32Array[];
      const clip = (nrm: number) => 2 / Math.max(nrm, 2);
      const ref = reference(xv!, yv!, [b, t, m, n], 'y', clip);
      const partials = splitRows(ref.norms.map((v) => v * v), 3);
      let out!: ReturnType<typeof clippedOuterSumWithBiasFromTerms>;
      const profile = await tf.profile(() => void (out = clippedOuterSumWithBiasFromTerms(x, y, partials, { threshold: 2, gamma: 0, automatic: false })));
      if (webgpu()) expect(profile.kernels.map((k) => k.name).filter((k) => k !== 'Reshape')).toEqual(['ClipwiseSampleTermSum', 'ClipwiseClippedOuterSumBias']);
      expect(relErr(await out.weight.data(), ref.weight)).toBeLessThan(1e-5);
      expect(relErr(await out.bias.data(), ref.bias)).toBeLessThan(1e-5);
      expect(relErr(await out.factors.data(), ref.factors)).toBeLessThan(1e-5);
      tf.dispose([x, y, partials, out.weight, out.bias, out.norms, out.factors]);
    });

    it.runIf(webgpu())('takes the ghost-norm kernel\'s joint partials (weight + bias) as they come', async () => {
      const [b, t, d, p] = [4, 24, 20, 12];
      const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 9) as tf.Tensor3D;
      const dy = tf.randomNormal([b, t, p], 0, 1, 'float32', 10) as tf.Tensor3D;
      const partials = ghostSqNormPartials(a, dy, { bias: true })!;
      const [av, dv] = (await Promise.all([a.data(), dy.data()])) as Float32Array[];
      const ref = reference(av!, dv!, [b, t, d, p], 'y', (nrm) => 1 / Math.max(nrm, 1));
      const out = clippedOuterSumWithBiasFromTerms(a, dy, partials, { threshold: 1, gamma: 0, automatic: false });
      expect(relErr(await out.norms.data(), ref.norms)).toBeLessThan(1e-5);
      expect(relErr(await out.weight.data(), ref.weight)).toBeLessThan(1e-5);
      expect(relErr(await out.bias.data(), ref.bias)).toBeLessThan(1e-5);
      tf.dispose([a, dy, partials, out.weight, out.bias, out.norms, out.factors]);
    }, 300_000); // lavapipe compiles the ghost kernel's pipelines here (40-row tiles too, on by default)
});

/** The threshold between the two smallest values, so that some samples clip and some do not. */
const between = (values: number[]) => {
  const sorted = [...values].sort((p, q) => p - q);
  return sorted.length === 1 ? sorted[0]! / 2 : (sorted[0]! + sorted[1]!) / 2;
};

describe('clippedOuterSumWithBiasFromTerms with the bias clipped apart (param-wise): each its own norms and factors, against float64', () => {
  afterEach(() => {
    setMatmulTileOverride(null);
    setStagedClipPrologue(null);
  });
  // [B, T, m, n], the weight's and the bias's partials columns, a forced tile and split count
  const cases: [number[], number, number, { tile: MatmulTileName; splits: number } | null][] = [
    [[1, 1, 3, 2], 1, 1, null],
    [[3, 5, 20, 17], 3, 2, null],
    [[2, 7, 8, 30], 2, 1, { tile: 'small', splits: 1 }],
    [[4, 130, 36, 40], 5, 2, { tile: 'medium', splits: 4 }],
    [[3, 20, 20, 17], 4, 3, { tile: 'large', splits: 2 }],
    // B·W past the small tile's 64 threads but within its staging: several staged loads a thread
    [[20, 3, 6, 5], 6, 4, { tile: 'small', splits: 1 }],
    // B·W past the small tile's staging (the global-memory prologue)
    [[40, 2, 6, 5], 18, 12, { tile: 'small', splits: 1 }],
  ];
  for (const staged of [false, true])
    for (const [shape, ww, wb, tile] of cases)
      for (const biasOf of ['y', 'x'] as const)
        for (const automatic of [false, true]) {
          const [b, t, m, n] = shape as [number, number, number, number];
          it(`x [${b}, ${t}, ${m}], y [${b}, ${t}, ${n}], W ${ww} + ${wb}, bias of ${biasOf}, ${automatic ? 'automatic' : 'abadi'}${tile ? `, ${tile.tile} × ${tile.splits}` : ''}${staged ? ', partials staged' : ''}`, async () => {
            setStagedClipPrologue(staged);
            const x = tf.randomNormal([b, t, m], 0, 1, 'float32', 17) as tf.Tensor3D;
            const y = tf.randomNormal([b, t, n], 0, 1, 'float32', 18) as tf.Tensor3D;
            const [xv, yv] = (await Promise.all([x.data(), y.data()])) as Float32Array[];
            const probe = reference(xv!, yv!, shape, biasOf, () => 1, () => 1);
            const [cw, cb] = [between(probe.norms), between(probe.biasNorms)];
            const gamma = 0.01;
            const fn = (c: number) => (nrm: number) => (automatic ? c / (nrm + gamma) : c / Math.max(nrm, c));
            const ref = reference(xv!, yv!, shape, biasOf, fn(cw), fn(cb));
            const ws = splitRows(probe.norms.map((v) => v * v), ww);
            const bs = splitRows(probe.biasNorms.map((v) => v * v), wb);
            const partials = tf.concat([ws, bs], 1);
            if (tile) setMatmulTileOverride(tile);
            const before = tf.memory().numTensors;
            let out!: ReturnType<typeof clippedOuterSumWithBiasFromTerms>;
            const run = () => (out = clippedOuterSumWithBiasFromTerms(x, y, partials, { threshold: cw, gamma, automatic }, { biasOf, biasApart: { from: ww, threshold: cb } }));
            const profile = await tf.profile(() => void run());
            // one launch on webgpu, the bias's factors formed and applied inside it
            if (webgpu()) expect(profile.kernels.map((k) => k.name).filter((k) => k !== 'Reshape')).toEqual(['ClipwiseClippedOuterSumBiasClip']);
            expect(out.weight.shape).toEqual([m, n]);
            expect(out.bias.shape).toEqual([biasOf === 'y' ? n : m]);
            const [wv, bv, nv, fv, bnv] = await Promise.all([out.weight.data(), out.bias.data(), out.norms.data(), out.factors.data(), out.biasNorms!.data()]);
            expect(relErr(wv, ref.weight)).toBeLessThan(1e-5);
            expect(relErr(bv, ref.bias)).toBeLessThan(1e-5);
            expect(relErr(nv, ref.norms)).toBeLessThan(1e-5);
            expect(relErr(fv, ref.factors)).toBeLessThan(1e-5);
            expect(relErr(bnv, ref.biasNorms)).toBeLessThan(1e-5);
            tf.dispose([out.weight, out.bias, out.norms, out.factors, out.biasNorms!]);
            expect(tf.memory().numTensors).toBe(before);
            tf.dispose([x, y, ws, bs, partials]);
          });
        }

    it('refuses a split outside the partials, naming it', () => {
      const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
      const p = tf.zeros([2, 3]) as tf.Tensor2D;
      const clip = { threshold: 1, gamma: 0, automatic: false };
      expect(() => clippedOuterSumWithBiasFromTerms(x, x, p, clip, { biasApart: { from: 3, threshold: 1 } })).toThrow(/biasApart.from 3 must split the partials' 3 columns/);
      expect(() => clippedOuterSumWithBiasFromTerms(x, x, p, clip, { biasApart: { from: 0, threshold: 1 } })).toThrow(/biasApart.from 0/);
      tf.dispose([x, p]);
    });

    it.runIf(webgpu())('takes the ghost-norm kernel\'s partials with the bias\'s chunks after the weight\'s tiles', async () => {
      const [b, t, d, p] = [4, 40, 20, 12];
      const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 19) as tf.Tensor3D;
      const dy = tf.randomNormal([b, t, p], 0, 1, 'float32', 20) as tf.Tensor3D;
      const weightOnly = ghostSqNormPartials(a, dy)!;
      const partials = ghostSqNormPartials(a, dy, { bias: true })!;
      const [av, dv] = (await Promise.all([a.data(), dy.data()])) as Float32Array[];
      const ref = reference(av!, dv!, [b, t, d, p], 'y', (nrm) => 1 / Math.max(nrm, 1), (nrm) => 0.5 / Math.max(nrm, 0.5));
      const out = clippedOuterSumWithBiasFromTerms(a, dy, partials, { threshold: 1, gamma: 0, automatic: false }, { biasApart: { from: weightOnly.shape[1], threshold: 0.5 } });
      expect(relErr(await out.norms.data(), ref.norms)).toBeLessThan(1e-5);
      expect(relErr(await out.biasNorms!.data(), ref.biasNorms)).toBeLessThan(1e-5);
      expect(relErr(await out.weight.data(), ref.weight)).toBeLessThan(1e-5);
      expect(relErr(await out.bias.data(), ref.bias)).toBeLessThan(1e-5);
      tf.dispose([a, dy, weightOnly, partials, out.weight, out.bias, out.norms, out.factors, out.biasNorms!]);
    }, 300_000); // lavapipe compiles the ghost kernel's pipelines here (40-row tiles too, on by default)
});
