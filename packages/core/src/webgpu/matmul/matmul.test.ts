import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { clearMatmulTuning, MATMUL_TILES, matmulTuning, matmulTuningActive, narrowTilesEnabled, planMatmul, recordMatmulProblems, setMatmulChoice, setMatmulTileOverride, setMatmulTuningActive, setNarrowTiles, TARGET_WORKGROUPS, type MatmulTileName } from './matmul-plan';
import { autotuneMatmul, formatMatmulTuning } from './matmul-autotune';
import { matMulActivation, matMulPlusResidual } from '../../fused/matmul-residual';
import { relErr } from '../../../../../tooling/test/rel-err';

/** erf by Abramowitz & Stegun 7.1.26 in float64 (|error| ≤ 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return Math.sign(x) * y;
}

/** op(A)·op(B) (+ bias) in float64, batch dims broadcast when one side has batch 1. */
function reference(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean, av: Float32Array, bv: Float32Array, bias?: Float32Array): Float64Array {
  const [ra, rb] = [a.rank, b.rank];
  const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const batchA = a.size / (m * k);
  const batchB = b.size / (k * n);
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const oa = (batchA === 1 ? 0 : z) * m * k;
    const ob = (batchB === 1 ? 0 : z) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = bias ? bias[j]! : 0;
        for (let p = 0; p < k; p++) s += av[oa + (ta ? p * m + i : i * k + p)]! * bv[ob + (tb ? j * k + p : p * n + j)]!;
        out[(z * m + i) * n + j] = s;
      }
  }
  return out;
}


let seed = 1;
async function check(aShape: number[], bShape: number[], ta: boolean, tb: boolean, withBias = false): Promise<void> {
  const a = tf.randomNormal(aShape, 0, 1, 'float32', seed++);
  const b = tf.randomNormal(bShape, 0, 1, 'float32', seed++);
  const n = tb ? bShape[bShape.length - 2]! : bShape[bShape.length - 1]!;
  const bias = withBias ? tf.randomNormal([n], 0, 1, 'float32', seed++) : undefined;
  const out = bias ? tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias }) : tf.matMul(a, b, ta, tb);
  const ref = reference(a, b, ta, tb, (await a.data()) as Float32Array, (await b.data()) as Float32Array, bias ? ((await bias.data()) as Float32Array) : undefined);
  const got = await out.data();
  expect(got.length).toBe(ref.length);
  expect(relErr(got, ref)).toBeLessThan(1e-5);
  tf.dispose([a, b, out, ...(bias ? [bias] : [])]);
}

describe('matmul: every transpose, tile and split against float64', () => {
  afterEach(() => setMatmulTileOverride(null));

  for (const ta of [false, true])
    for (const tb of [false, true]) {
      it(`transposeA ${ta}, transposeB ${tb}: aligned, odd (not multiples of 4 or of the tile), batched`, async () => {
        const sh = (rows: number, cols: number, t: boolean, batch: number[] = []) => [...batch, ...(t ? [cols, rows] : [rows, cols])];
        // [M, K] x [K, N] as stored with the transposes
        for (const [m, k, n, batch] of [
          [64, 32, 48, []],
          [37, 29, 19, []],
          [130, 70, 131, [2]],
          [17, 197, 33, [3]],
        ] as [number, number, number, number[]][]) {
          await check(sh(m, k, ta, batch), sh(k, n, tb, batch), ta, tb);
        }
      });
    }

  for (const tile of Object.keys(MATMUL_TILES) as MatmulTileName[]) {
    it(`tile ${tile}, with and without split-K, bias, broadcast batch`, async () => {
      setMatmulTileOverride({ tile });
      await check([70, 44], [44, 36], false, false, true);
      await check([2, 3, 40, 24], [24, 20], false, false);
      await check([20, 33], [2, 20, 18], true, false);
      setMatmulTileOverride({ tile, splits: 3 });
      await check([50, 100], [100, 36], false, false, true);
      await check([4, 21, 97], [4, 26, 97], false, true);
    });
  }

  it('B = 1, T = 1 and tiny products', async () => {
    await check([1, 1, 768], [768, 64], false, false);
    await check([1, 5], [5, 3], false, false);
    await check([3, 1, 40], [3, 40, 1], false, false);
    await check([1, 16], [16, 300], false, false); // a [1, B] × [B, d] weighted sum
  });

  it('small batched products stay exact over pooled memory that holds NaN (a discarded non-finite step leaves it)', async () => {
    for (const n of [64, 128, 256, 512, 1024]) {
      const poison = tf.fill([n], NaN);
      await poison.data();
      poison.dispose();
    }
    // TF.js's small-output program read B past K and multiplied that by zero: NaN here
    await check([8, 5, 11], [11, 8], false, false);
    await check([8, 5, 11], [8, 11, 8], false, false);
  });

  it('a residual added in the epilogue (with and without bias, split-K, vec4 and odd widths), against float64', async () => {
    for (const [m, k, n, tile, splits] of [[70, 44, 36, 'medium', 1], [33, 100, 17, 'small', 3], [64, 300, 48, 'large8', 2], [5, 7, 3, 'small', 1]] as [number, number, number, MatmulTileName, number][]) {
      setMatmulTileOverride({ tile, splits });
      for (const tb of [false, true]) {
        const a = tf.randomNormal([m, k], 0, 1, 'float32', seed++) as tf.Tensor2D;
        const b = tf.randomNormal(tb ? [n, k] : [k, n], 0, 1, 'float32', seed++) as tf.Tensor2D;
        const bias = tf.randomNormal([n], 0, 1, 'float32', seed++);
        const r = tf.randomNormal([m, n], 0, 1, 'float32', seed++) as tf.Tensor2D;
        const [av, bv, biasv, rv] = await Promise.all([a.data(), b.data(), bias.data(), r.data()]);
        for (const withBias of [false, true]) {
          const before = tf.memory().numTensors;
          const out = matMulPlusResidual(a, b, { transposeB: tb, residual: r, ...(withBias ? { bias } : {}) });
          const ref = reference(a, b, false, tb, av as Float32Array, bv as Float32Array, withBias ? (biasv as Float32Array) : undefined).map((v, i) => v + rv[i]!);
          expect(relErr(await out.data(), ref), `${m}×${k}×${n} ${tile} ×${splits} tb ${tb} bias ${withBias}`).toBeLessThan(1e-5);
          out.dispose();
          expect(tf.memory().numTensors).toBe(before);
        }
        tf.dispose([a, b, bias, r]);
      }
    }
    expect(() => matMulPlusResidual(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 4]) as tf.Tensor2D, { transposeB: false, residual: tf.zeros([2, 5]) as tf.Tensor2D })).toThrow(/the residual must be the product's shape \[2, 4\], got \[2,5\]/);
  });

  it('writes the product in an outShape of the same size (a layer\'s [B, T, N]), the residual in either shape; the values of the 2-D product', async () => {
    for (const splits of [1, 3]) {
      setMatmulTileOverride({ tile: 'small', splits });
      const a = tf.randomNormal([6, 40], 0, 1, 'float32', seed++) as tf.Tensor2D;
      const b = tf.randomNormal([40, 12], 0, 1, 'float32', seed++) as tf.Tensor2D;
      const bias = tf.randomNormal([12], 0, 1, 'float32', seed++);
      const r = tf.randomNormal([6, 12], 0, 1, 'float32', seed++) as tf.Tensor2D;
      const r3 = tf.reshape(r, [2, 3, 12]);
      const flat = matMulPlusResidual(a, b, { transposeB: false, bias, residual: r });
      const want = Array.from(await flat.data());
      for (const residual of [r, r3]) {
        const out = matMulPlusResidual(a, b, { transposeB: false, bias, residual, outShape: [2, 3, 12] });
        expect(out.shape).toEqual([2, 3, 12]);
        expect(Array.from(await out.data())).toEqual(want); // the same kernel, another shape
        out.dispose();
      }
      const act = matMulActivation(a, b, { transposeB: false, bias, act: 'geluTanh', outShape: [2, 3, 12] });
      if (act) {
        const plain = matMulActivation(a, b, { transposeB: false, bias, act: 'geluTanh' })!;
        expect([act.y.shape, act.h.shape]).toEqual([[2, 3, 12], [2, 3, 12]]);
        expect(Array.from(await act.y.data())).toEqual(Array.from(await plain.y.data()));
        expect(Array.from(await act.h.data())).toEqual(Array.from(await plain.h.data()));
        tf.dispose([act.y, act.h, plain.y, plain.h]);
      }
      tf.dispose([a, b, bias, r, r3, flat]);
    }
    const [a, b] = [tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 4]) as tf.Tensor2D];
    expect(() => matMulPlusResidual(a, b, { transposeB: false, residual: tf.zeros([2, 4]), outShape: [3, 3] })).toThrow(/outShape \[3,3\] does not hold the product's 8 values/);
    expect(() => matMulPlusResidual(a, b, { transposeB: false, residual: tf.zeros([4, 2]), outShape: [1, 2, 4] })).toThrow(/the residual must be the product's shape \[2, 4\] or outShape \[1, 2, 4\], got \[4,2\]/);
    tf.dispose([a, b]);
  });

  it('an activation in the epilogue (GELU tanh and erf; split-K, vec4 and odd widths): act(a·b + bias) and a·b + bias against float64', async () => {
    const gelu = { geluTanh: (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), geluErf: (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2)) };
    for (const [m, k, n, tile, splits] of [[70, 44, 36, 'medium', 1], [33, 100, 17, 'small', 3], [64, 300, 48, 'large8', 2]] as [number, number, number, MatmulTileName, number][]) {
      setMatmulTileOverride({ tile, splits });
      for (const act of ['geluTanh', 'geluErf'] as const) {
        const a = tf.randomNormal([m, k], 0, 0.3, 'float32', seed++) as tf.Tensor2D;
        const b = tf.randomNormal([k, n], 0, 0.3, 'float32', seed++) as tf.Tensor2D;
        const bias = tf.randomNormal([n], 0, 1, 'float32', seed++);
        const out = matMulActivation(a, b, { transposeB: false, bias, act });
        if (tf.getBackend() !== 'webgpu') {
          expect(out).toBeNull(); // off the device the caller runs the product and the activation apart
        } else {
          const ref = reference(a, b, false, false, (await a.data()) as Float32Array, (await b.data()) as Float32Array, (await bias.data()) as Float32Array);
          expect(relErr(await out!.h.data(), ref), `${act} ${m}×${k}×${n} pre-activation`).toBeLessThan(1e-5);
          expect(relErr(await out!.y.data(), ref.map(gelu[act])), `${act} ${m}×${k}×${n}`).toBeLessThan(1e-5);
          tf.dispose([out!.y, out!.h]);
        }
        tf.dispose([a, b, bias]);
      }
    }
  });

  it('gradients of a product equal float64 gradients (backward reads the transposes in place)', async () => {
    const a = tf.randomNormal([3, 40, 24], 0, 1, 'float32', 7);
    const b = tf.randomNormal([3, 24, 36], 0, 1, 'float32', 8);
    const dy = tf.randomNormal([3, 40, 36], 0, 1, 'float32', 9);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y))([a, b], dy);
    const [av, bv, gv] = [(await a.data()) as Float32Array, (await b.data()) as Float32Array, (await dy.data()) as Float32Array];
    // dA = dy·Bᵀ and dB = Aᵀ·dy per batch entry
    const daRef = reference(dy, b, false, true, gv, bv);
    const dbRef = reference(a, dy, true, false, av, gv);
    expect(relErr(await da!.data(), daRef)).toBeLessThan(1e-5);
    expect(relErr(await db!.data(), dbRef)).toBeLessThan(1e-5);
    tf.dispose([a, b, dy, da!, db!]);
  });
});

describe('matmul plan', () => {
  it('large tiles where they fill the GPU, split-K for long reductions with few tiles, smaller tiles otherwise', () => {
    expect(planMatmul(1, 2048, 50257, 768)).toMatchObject({ tileName: 'large8', splits: 1 });
    const wgrad = planMatmul(1, 768, 768, 2048);
    expect(wgrad.tileName).toBe('large8');
    expect(wgrad.splits).toBeGreaterThan(1);
    // as many slices as fill the GPU, but none shorter than 256
    expect(wgrad.workgroups[0] * wgrad.workgroups[1] * wgrad.workgroups[2]).toBe(Math.min(36 * Math.ceil(TARGET_WORKGROUPS / 36), 36 * 8));
    expect(wgrad.kPerSplit * wgrad.splits).toBeGreaterThanOrEqual(2048);
    expect(planMatmul(192, 128, 128, 64).tileName).toBe('wide');
    expect(planMatmul(1, 40, 40, 8).tileName).toBe('small');
    // partials that would not fit one 2 GiB storage binding get fewer splits
    setMatmulTileOverride({ tile: 'large', splits: 8 });
    expect(planMatmul(1, 2048, 50257, 768).splits).toBe(5);
    setMatmulTileOverride(null);
  });
  it('narrow tiles (on by default): products of N ≤ 64 (attention at head width 64) on the tall tile where it fills the GPU', () => {
    expect(narrowTilesEnabled()).toBe(process.env.CLIPWISE_MATMUL_NARROW !== 'off'); // on by default
    try {
      // QKᵀ (not narrow), ViT's dense products, too few tiles to fill the GPU, a short M: as without
      const others: [number, number, number, number, number][] = [[384, 197, 197, 64, 0], [1, 6304, 768, 768, 2 ** 31 - 4], [1, 6304, 2304, 768, 2 ** 31 - 4], [2, 197, 64, 197, 0], [384, 48, 64, 197, 0]];
      setNarrowTiles(false);
      expect(planMatmul(384, 197, 64, 197, 0).tileName).toBe('large8');
      expect(planMatmul(192, 128, 64, 128, 0).tileName).toBe('wide');
      const before = others.map((a) => planMatmul(...a).tileName);
      setNarrowTiles(true);
      expect(planMatmul(384, 197, 64, 197, 0).tileName).toBe('tall'); // P·V, dQ, dK, dV of ViT-B/16 at B = 32
      expect(planMatmul(192, 128, 64, 128, 0).tileName).toBe('medium'); // GPT-2 small's at B = 16 (else 'wide')
      expect(others.map((a) => planMatmul(...a).tileName)).toEqual(before);
    } finally {
      setNarrowTiles(null);
    }
  });
});

describe('matmul tuning', () => {
  afterEach(() => clearMatmulTuning());
  const problem = { batch: 1, m: 2048, n: 768, k: 768, transposeA: false, transposeB: false, strided: false };

  it('records the problems planned, keyed by shape and transposes', () => {
    recordMatmulProblems(true);
    planMatmul(1, 2048, 768, 768);
    planMatmul(1, 2048, 768, 768);
    planMatmul(1, 768, 768, 2048, 2 ** 31 - 4, true, false);
    planMatmul(4, 64, 64, 32, 0);
    const seen = recordMatmulProblems(false);
    expect(seen).toEqual([problem, { ...problem, m: 768, k: 2048, transposeA: true }, { batch: 4, m: 64, n: 64, k: 32, transposeA: false, transposeB: false, strided: true }]);
    expect(recordMatmulProblems(false)).toEqual([]);
  });

  it('a tuned choice is used for its problem and for neighbours within 1.5× of M and batch of the same N, K and transposes', () => {
    const heuristic = (m: number, k = 768, tb = false) => planMatmul(1, m, 768, k, 2 ** 31 - 4, false, tb).tileName;
    const before = [heuristic(2048), heuristic(1200), heuristic(2048, 768, true), heuristic(2048, 769)];
    expect(before).not.toContain('xwide8w');
    setMatmulChoice(problem, { tile: 'xwide8w', splits: 1 });
    expect(planMatmul(1, 2048, 768, 768).tileName).toBe('xwide8w');
    expect(planMatmul(1, 1700, 768, 768).tileName).toBe('xwide8w'); // a smaller Poisson batch
    // too far in M, other transposes, another K: the heuristic's
    expect([heuristic(1200), heuristic(2048, 768, true), heuristic(2048, 769)]).toEqual(before.slice(1));
    expect(matmulTuning()).toEqual([{ problem, choice: { tile: 'xwide8w', splits: 1 } }]);
    setMatmulChoice(problem, null);
    expect(heuristic(2048)).toBe(before[0]);
  });

  it('setMatmulTuningActive(false) plans by the heuristic and keeps the tuned table; null uses it again', () => {
    const before = planMatmul(1, 2048, 768, 768).tileName;
    setMatmulChoice(problem, { tile: 'xwide8w', splits: 1 });
    expect(planMatmul(1, 2048, 768, 768).tileName).toBe('xwide8w');
    setMatmulTuningActive(false);
    try {
      expect(matmulTuningActive()).toBe(false);
      expect(planMatmul(1, 2048, 768, 768).tileName).toBe(before);
      expect(planMatmul(1, 1700, 768, 768).tileName).not.toBe('xwide8w'); // the neighbour too
      expect(matmulTuning()).toHaveLength(1);
    } finally {
      setMatmulTuningActive(null);
    }
    expect(matmulTuningActive()).toBe(true);
    expect(planMatmul(1, 2048, 768, 768).tileName).toBe('xwide8w');
  });

  it('autotuneMatmul times the products a run plans and keeps them exact (webgpu; elsewhere nothing to tune)', async () => {
    const a = tf.randomNormal([96, 200], 0, 1, 'float32', 11);
    const b = tf.randomNormal([200, 72], 0, 1, 'float32', 12);
    const rows = await autotuneMatmul(async () => {
      const y = tf.matMul(a, b);
      await y.data();
      y.dispose();
    }, { minMs: 0, trials: 1, tiles: ['small', 'medium16w', 'large8x'] });
    if (tf.getBackend() !== 'webgpu') {
      expect(rows).toEqual([]);
    } else {
      expect(rows.map((r) => r.problem)).toEqual([{ batch: 1, m: 96, n: 72, k: 200, transposeA: false, transposeB: false, strided: false }]);
      expect(['small', 'medium16w', 'large8x', rows[0]!.before.tile]).toContain(rows[0]!.chosen.tile);
      expect(rows[0]!.chosen.ms).toBeGreaterThan(0);
      expect(formatMatmulTuning(rows)).toContain('| 1×96×72×200 (0, 0) |');
      expect(planMatmul(1, 96, 72, 200).tileName).toBe(rows[0]!.chosen.tile);
      const ref = reference(a, b, false, false, (await a.data()) as Float32Array, (await b.data()) as Float32Array);
      const y = tf.matMul(a, b);
      expect(relErr(await y.data(), ref)).toBeLessThan(1e-5);
      y.dispose();
    }
    tf.dispose([a, b]);
  });
});
