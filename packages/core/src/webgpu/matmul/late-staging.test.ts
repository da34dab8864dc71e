import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { lateStagingEnabled, setLateStaging } from './late-staging';
import { matmulWgsl, variantKey, type MatmulVariant } from './matmul-wgsl';
import { MATMUL_TILES, setMatmulTileOverride, type MatmulTileName } from './matmul-plan';
import { clippedOuterSumWithBias } from '../../fused/clipped-outer-sum';
import { clippedOuterSumWithBiasFromTerms } from '../../fused/clipped-outer-sum-from-terms';
import { relErr } from '../../../../../tooling/test/rel-err';

const webgpu = () => tf.getBackend() === 'webgpu';

/** The main loop's text: from the double-buffered loop's head to the output stores. */
const mainLoop = (code: string) => code.slice(code.indexOf('loop {'), code.lastIndexOf('store('));

describe('late staging: the switch and the code it generates', () => {
  afterEach(() => setLateStaging(null));

  it('is off by default; set(true) turns it on, null back to the default', () => {
    expect(lateStagingEnabled()).toBe(false);
    setLateStaging(true);
    expect(lateStagingEnabled()).toBe(true);
    setLateStaging(null);
    expect(lateStagingEnabled()).toBe(false);
  });

  it('loads bare registers and transforms them at the store: bounds, ones and the clip scale (a pipeline of its own)', () => {
    const apart: MatmulVariant = { tile: MATMUL_TILES.large8x, transposeA: true, transposeB: false, vecA: true, vecB: true, vecC: true, bias: false, clipA: { capacity: 64, apart: true }, ones: { side: 'row', to: 'out' } };
    const late = { ...apart, lateStaging: true };
    expect(variantKey(late)).not.toBe(variantKey(apart));
    const [early, lateLoop] = [mainLoop(matmulWgsl(apart)), mainLoop(matmulWgsl(late))];
    // the loads sit in the `if (more)` before the slice's multiply (the first fma), the stores after it
    const beforeMultiply = (loop: string) => loop.slice(0, loop.indexOf('fma('));
    const afterMultiply = (loop: string) => loop.slice(loop.lastIndexOf('fma('));
    for (const op of ['select(', 'clipf[', 'clipb[']) {
      expect(beforeMultiply(early)).toContain(op);
      expect(beforeMultiply(lateLoop)).not.toContain(op);
      expect(afterMultiply(lateLoop)).toContain(op);
    }
    // scalar loads (odd widths) and K-major operands too
    const scalar = matmulWgsl({ ...late, vecA: false, vecB: false, vecC: false, transposeA: false, clipA: undefined, ones: undefined, kScaleA: true });
    expect(beforeMultiply(mainLoop(scalar))).not.toMatch(/select\(|kscale\[/);
    expect(afterMultiply(mainLoop(scalar))).toMatch(/kscale\[/);
  });
});

/** op(A)·op(B) (+ bias) of 2-D operands in float64. */
function reference(av: Float32Array, bv: Float32Array, [m, k, n]: number[], ta: boolean, tb: boolean, bias: Float32Array | null): Float64Array {
  const out = new Float64Array(m! * n!);
  for (let i = 0; i < m!; i++)
    for (let j = 0; j < n!; j++) {
      let s = bias ? bias[j]! : 0;
      for (let p = 0; p < k!; p++) s += av[ta ? p * m! + i : i * k! + p]! * bv[tb ? j * k! + p : p * n! + j]!;
      out[i * n! + j] = s;
    }
  return out;
}

/** `run`'s outputs with late staging off, then on. */
async function bothWays(run: () => tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const sides: Float32Array[][] = [];
  for (const late of [false, true]) {
    setLateStaging(late);
    const outs = run();
    sides.push((await Promise.all(outs.map((t) => t.data()))) as Float32Array[]);
    tf.dispose(outs);
  }
  return sides as [Float32Array[], Float32Array[]];
}

describe.runIf(webgpu())('late staging on webgpu: the same products, bit for bit, as early staging', () => {
  afterEach(() => {
    setLateStaging(null);
    setMatmulTileOverride(null);
  });

  // [M, K, N]: vec4 and odd widths, K past a slice and not a multiple of it, one row
  const shapes = [[64, 32, 48], [37, 29, 19], [130, 70, 131], [1, 197, 33]];
  const tiles: [MatmulTileName, number][] = [['small', 1], ['medium', 3], ['large8x', 2], ['wide16w', 1], ['large', 1]];
  for (const ta of [false, true])
    for (const tb of [false, true])
      it(`plain products, transposeA ${ta}, transposeB ${tb}, with a bias: every tile and split, against float64`, async () => {
        let seed = 40;
        for (const [tile, splits] of tiles) {
          setMatmulTileOverride({ tile, splits });
          for (const [m, k, n] of shapes) {
            const a = tf.randomNormal(ta ? [k!, m!] : [m!, k!], 0, 1, 'float32', seed++) as tf.Tensor2D;
            const b = tf.randomNormal(tb ? [n!, k!] : [k!, n!], 0, 1, 'float32', seed++) as tf.Tensor2D;
            const bias = tf.randomNormal([n!], 0, 1, 'float32', seed++);
            const [[early], [late]] = await bothWays(() => [tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias })]);
            const ref = reference((await a.data()) as Float32Array, (await b.data()) as Float32Array, [m!, k!, n!], ta, tb, (await bias.data()) as Float32Array);
            expect(Array.from(late!), `${tile} ×${splits} ${m}×${k}×${n}`).toEqual(Array.from(early!));
            expect(relErr(late!, ref)).toBeLessThan(1e-5);
            tf.dispose([a, b, bias]);
          }
        }
      }, 600_000); // lavapipe compiles 40 pipelines a test

  // [B, T, m, n]: vec4 and scalar staging, split-K, one row
  const cases = [[3, 5, 20, 17], [2, 130, 36, 40], [16, 128, 63, 50], [1, 1, 3, 2]];
  it('Book-Keeping products: the K scale (given factors) with the bias\'s row or column of ones', async () => {
    for (const [b, t, m, n] of cases)
      for (const biasOf of ['y', 'x'] as const) {
        const x = tf.randomNormal([b!, t!, m!], 0, 1, 'float32', 4) as tf.Tensor3D;
        const y = tf.randomNormal([b!, t!, n!], 0, 1, 'float32', 5) as tf.Tensor3D;
        const c = tf.randomUniform([b!], 0.1, 1, 'float32', 6) as tf.Tensor1D;
        const [early, late] = await bothWays(() => {
          const r = clippedOuterSumWithBias(x, y, c, { biasOf });
          return [r.weight, r.bias];
        });
        expect(late.map((v) => Array.from(v)), `[${b}, ${t}, ${m}, ${n}] bias of ${biasOf}`).toEqual(early.map((v) => Array.from(v)));
        tf.dispose([x, y, c]);
      }
  }, 300_000);

  it('clip factors formed in the product: the weight and bias together, and the bias clipped apart (param-wise)', async () => {
    for (const [b, t, m, n] of cases)
      for (const biasOf of ['y', 'x'] as const)
        for (const apart of [false, true]) {
          const x = tf.randomNormal([b!, t!, m!], 0, 1, 'float32', 7) as tf.Tensor3D;
          const y = tf.randomNormal([b!, t!, n!], 0, 1, 'float32', 8) as tf.Tensor3D;
          // partials whose rows sum to squared norms spread so that some samples clip (threshold 1) and some do not
          const partials = tf.randomUniform([b!, 5], 0, 0.5, 'float32', 9) as tf.Tensor2D;
          const clip = { threshold: 1, gamma: 0.01, automatic: false };
          const [early, late] = await bothWays(() => {
            const r = clippedOuterSumWithBiasFromTerms(x, y, partials, clip, { biasOf, ...(apart ? { biasApart: { from: 3, threshold: 0.5 } } : {}) });
            return [r.weight, r.bias, r.norms, r.factors, ...(r.biasNorms ? [r.biasNorms] : [])];
          });
          expect(late.map((v) => Array.from(v)), `[${b}, ${t}, ${m}, ${n}] bias of ${biasOf}${apart ? ', apart' : ''}`).toEqual(early.map((v) => Array.from(v)));
          tf.dispose([x, y, partials]);
        }
  }, 300_000);
});
