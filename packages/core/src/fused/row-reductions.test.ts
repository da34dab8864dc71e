import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { storageBindingsPerDispatch } from '../webgpu/direct-dispatch';
import { sampleTermChunks, sampleTermsClipFactors, sumSampleTerms, weightedRowSums, type SampleTerm } from './row-reductions';

/** Σ_k ‖g_k[i, :]‖² (+ init): `sq` terms (a [B] value first when given). */
const sumOfRowSqNorms = (rows: readonly tf.Tensor2D[], init?: tf.Tensor1D) =>
  sumSampleTerms([...(init ? [{ kind: 'value' as const, tensor: init }] : []), ...rows.map((tensor) => ({ kind: 'sq' as const, tensor }))]);

/** Tensors [b, n_k] of the given widths, random, and their values. */
async function rowsOf(b: number, widths: number[]): Promise<{ rows: tf.Tensor2D[]; values: Float32Array[] }> {
  const rows = widths.map((n, k) => tf.randomNormal([b, n], 0, 1, 'float32', 10 + k) as tf.Tensor2D);
  return { rows, values: await Promise.all(rows.map(async (r) => (await r.data()) as Float32Array)) };
}

// widths below, at and above the workgroup's 256, odd ones; more tensors than one launch binds
const cases: [string, number, number[]][] = [
  ['one tensor, B = 1', 1, [7]],
  ['a layer norm pair', 4, [768, 768]],
  ['odd widths', 3, [1, 5, 257, 300, 513]],
  ['more tensors than a launch binds', 5, Array.from({ length: 40 }, (_, k) => 3 + ((k * 37) % 90))],
];

describe('sumOfRowSqNorms equals float64 Σ_k ‖g_k[i]‖²', () => {
  for (const [name, b, widths] of cases)
    for (const withInit of [false, true]) {
      it(`${name}${withInit ? ', with init' : ''}`, async () => {
        const { rows, values } = await rowsOf(b, widths);
        const init = withInit ? (tf.randomUniform([b], 0, 3, 'float32', 3) as tf.Tensor1D) : undefined;
        const iv = init ? await init.data() : null;
        const before = tf.memory().numTensors;
        let out!: tf.Tensor1D;
        const profile = await tf.profile(() => void (out = sumOfRowSqNorms(rows, init)));
        const launches = profile.kernels.filter((k) => k.name === 'ClipwiseSampleTermSum').length;
        if (tf.getBackend() === 'webgpu') {
          // each launch binds its output and up to most − 1 terms; a full launch leaves one term (its sum) for the next
          const most = storageBindingsPerDispatch(32);
          const terms = widths.length + (withInit ? 1 : 0);
          const base = 1 + Math.ceil(Math.max(0, terms - (most - 1)) / (most - 2));
          // at these small B a launch over terms wider than 64 columns runs as two (sampleTermChunks)
          expect(launches).toBeGreaterThanOrEqual(base);
          expect(launches).toBeLessThanOrEqual(2 * base);
          if (widths.length === 1) expect(launches).toBe(base);
          if (name === 'a layer norm pair') expect(launches).toBe(2);
        } else {
          expect(launches).toBe(0);
        }
        expect(out.shape).toEqual([b]);
        const got = await out.data();
        for (let i = 0; i < b; i++) {
          let ref = iv ? iv[i]! : 0;
          widths.forEach((n, k) => {
            for (let j = 0; j < n; j++) ref += values[k]![i * n + j]! ** 2;
          });
          expect(Math.abs(got[i]! - ref) / ref).toBeLessThan(1e-5);
        }
        out.dispose();
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([...rows, ...(init ? [init] : [])]);
      });
    }

  it('refuses no terms, terms of another batch or rank', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => sumOfRowSqNorms([])).toThrow(/sumSampleTerms: no terms/);
    expect(() => sumOfRowSqNorms([a, tf.zeros([3, 3]) as tf.Tensor2D])).toThrow(/a 'sq' term must be \[B, n\] with B = 2, got \[3,3\]/);
    expect(() => sumOfRowSqNorms([tf.zeros([2, 3, 1]) as unknown as tf.Tensor2D])).toThrow(/got \[2,3,1\]/);
    expect(() => sumOfRowSqNorms([a], tf.zeros([3]) as tf.Tensor1D)).toThrow(/a 'sq' term must be \[B, n\] with B = 3, got \[2,3\]/);
    const dy = tf.zeros([2, 4, 3]) as tf.Tensor3D;
    expect(() => sumSampleTerms([{ kind: 'colsq', tensor: dy, mul: tf.zeros([2, 4, 2]) as tf.Tensor3D }])).toThrow(/a 'colsq' term's mul \[2,4,2\] must have its tensor's shape \[2,4,3\]/);
    expect(() => sumSampleTerms([{ kind: 'colsq', tensor: a as unknown as tf.Tensor3D }])).toThrow(/a 'colsq' term must be \[B, T, p\] with B = 2, got \[2,3\]/);
    dy.dispose();
    a.dispose();
  });
});

describe('sumSampleTerms and sampleTermsClipFactors: values, row sums and row squares in one sum', () => {
  /** float64 Σ of the terms per sample. */
  async function reference(terms: readonly SampleTerm[], b: number): Promise<number[]> {
    const out = new Array<number>(b).fill(0);
    for (const t of terms) {
      const v = await t.tensor.data();
      if (t.kind === 'colsq') {
        const [, rows, p] = t.tensor.shape;
        const x = t.mul ? await t.mul.data() : null;
        for (let i = 0; i < b; i++)
          for (let j = 0; j < p; j++) {
            let c = 0;
            for (let r = 0; r < rows; r++) c += v[(i * rows + r) * p + j]! * (x ? x[(i * rows + r) * p + j]! : 1);
            out[i]! += c * c;
          }
        continue;
      }
      const n = t.kind === 'value' ? 1 : t.tensor.shape[1]!;
      for (let i = 0; i < b; i++) for (let j = 0; j < n; j++) out[i]! += t.kind === 'sq' ? v[i * n + j]! ** 2 : v[i * n + j]!;
    }
    return out;
  }
  // B = 1 and a B past one workgroup's width; few terms and more than a launch binds; on webgpu all
  // of these but B = 140 take the chunked launches (sampleTermChunks), B = 140 a workgroup a sample
  for (const [b, count] of [[1, 4], [37, 8], [4, 41], [140, 4]] as const) {
    it(`B = ${b}, ${count} terms of every kind`, async () => {
      const terms: SampleTerm[] = Array.from({ length: count }, (_, k) => {
        const kind = (['value', 'sum', 'sq', 'colsq'] as const)[k % 4]!;
        // column sums over T rows (T not a multiple of anything), with x̂ every other time
        if (kind === 'colsq') {
          const shape: [number, number, number] = [b, 1 + ((k * 7) % 9), 1 + ((k * 37) % 300)];
          return { kind, tensor: tf.randomNormal(shape, 0, 1, 'float32', k) as tf.Tensor3D, ...(k % 8 === 3 ? { mul: tf.randomNormal(shape, 0, 1, 'float32', 100 + k) as tf.Tensor3D } : {}) };
        }
        // sums of positive partials (a ghost norm's tiles are ≥ 0 in sum); a large value in one sample
        return kind === 'value'
          ? { kind, tensor: tf.tensor1d(Array.from({ length: b }, (_, i) => (i === 0 ? 1e4 : 0) + ((i * 7 + k) % 5) * 0.4)) }
          : { kind, tensor: tf.randomUniform([b, 1 + ((k * 53) % 300)], 0, 1, 'float32', k) as tf.Tensor2D };
      });
      const want = await reference(terms, b);
      const before = tf.memory().numTensors;
      const sum = sumSampleTerms(terms);
      const got = await sum.data();
      want.forEach((w, i) => expect(Math.abs(got[i]! - w) / w, `sample ${i}`).toBeLessThan(1e-5));
      for (const clip of [{ threshold: 3, automatic: false, gamma: 0 }, { threshold: 3, automatic: true, gamma: 0.01 }]) {
        const { norms, factors } = sampleTermsClipFactors(terms, clip);
        const [n, c] = await Promise.all([norms.data(), factors.data()]);
        want.forEach((w, i) => {
          const norm = Math.sqrt(w);
          expect(Math.abs(n[i]! - norm) / norm).toBeLessThan(1e-5);
          const f = clip.automatic ? clip.threshold / (norm + clip.gamma) : Math.min(1, clip.threshold / norm);
          expect(Math.abs(c[i]! - f) / f).toBeLessThan(1e-5);
        });
        tf.dispose([norms, factors]);
      }
      sum.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(terms.flatMap((t) => [t.tensor, ...(t.kind === 'colsq' && t.mul ? [t.mul] : [])]));
    });
  }

  it('cuts a sample\'s columns in chunks while the batch alone does not fill the GPU', () => {
    const ln = (b: number) => [{ kind: 'colsq', tensor: tf.zeros([b, 3, 768]) as tf.Tensor3D }, { kind: 'value', tensor: tf.zeros([b]) as tf.Tensor1D }] as SampleTerm[];
    const [vit, gpt2, many, tiny] = [ln(32), ln(16), ln(200), [{ kind: 'sq', tensor: tf.zeros([8, 40]) as tf.Tensor2D }] as SampleTerm[]];
    expect(sampleTermChunks(32, vit)).toBe(9); // 264 workgroups' worth
    expect(sampleTermChunks(16, gpt2)).toBe(12); // no chunk narrower than 64 columns
    expect(sampleTermChunks(200, many)).toBe(1);
    expect(sampleTermChunks(8, tiny)).toBe(1);
    tf.dispose([...vit, ...gpt2, ...many, ...tiny].map((t) => t.tensor));
  });

  it('Abadi factors are exactly 1 at and below the threshold (n = 0 included)', async () => {
    const sq = tf.tensor1d([0, 1e-12, 2.25, 9, 100]);
    const { norms, factors } = sampleTermsClipFactors([{ kind: 'value', tensor: sq }], { threshold: 3, automatic: false, gamma: 0 });
    expect(Array.from(await factors.data()).slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect((await factors.data())[4]).toBeCloseTo(0.3, 6);
    tf.dispose([sq, norms, factors]);
  });
});

describe('weightedRowSums equals float64 Σ_i c_i g_k[i, :]', () => {
  for (const [name, b, widths] of cases) {
    it(name, async () => {
      const { rows, values } = await rowsOf(b, widths);
      const c = tf.randomUniform([b], 0, 1, 'float32', 4) as tf.Tensor1D;
      const cv = await c.data();
      const before = tf.memory().numTensors;
      let outs!: tf.Tensor1D[];
      const profile = await tf.profile(() => void (outs = weightedRowSums(c, rows)));
      const launches = profile.kernels.filter((k) => k.name === 'ClipwiseWeightedRowSums').length;
      const per = Math.floor((storageBindingsPerDispatch(32) - 1) / 2);
      expect(launches).toBe(tf.getBackend() === 'webgpu' ? Math.ceil(widths.length / per) : 0);
      expect(outs.map((o) => o.shape)).toEqual(widths.map((n) => [n]));
      for (let k = 0; k < widths.length; k++) {
        const n = widths[k]!;
        const got = await outs[k]!.data();
        for (let j = 0; j < n; j++) {
          let ref = 0;
          let scale = 0;
          for (let i = 0; i < b; i++) {
            ref += cv[i]! * values[k]![i * n + j]!;
            scale += Math.abs(cv[i]! * values[k]![i * n + j]!);
          }
          expect(Math.abs(got[j]! - ref)).toBeLessThanOrEqual(1e-6 * scale + 1e-7);
        }
      }
      tf.dispose(outs);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...rows, c]);
    });
  }

  it('refuses factors of another batch size', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const c = tf.ones([3]) as tf.Tensor1D;
    expect(() => weightedRowSums(c, [a])).toThrow(/the factors must be \[2\], got \[3\]/);
    tf.dispose([a, c]);
  });
});

describe('sumSampleTerms of values alone', () => {
  it('adds [B] terms, one of them listed twice (a tied weight cross term), in one launch', async () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([10, 20, 30]);
    const sum = sumSampleTerms([{ kind: 'value', tensor: a }, { kind: 'value', tensor: b }, { kind: 'value', tensor: b }]);
    expect(Array.from(await sum.data())).toEqual([21, 42, 63]);
    tf.dispose([a, b, sum]);
  });
});
