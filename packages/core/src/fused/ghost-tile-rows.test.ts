import * as tf from '@tensorflow/tfjs-core';
import { ghostReference as reference, sumRows } from './ghost-reference.test-util';
import { afterEach, describe, expect, it } from 'vitest';
import { ghostSqNorm, ghostSqNormPartials } from './ghost-sq-norm';
import { ghostSqNormPartialsMany } from './ghost-sq-norm-many';
import { setGhostSplitK } from './ghost-sq-norm-split-wgsl';
import { ghostLayerWidth, ghostTileRows, ghostTileRowsFit, setGhostKernelShape, setGhostTileRows, type GhostKernelShape } from './ghost-sq-norm-wgsl';

afterEach(() => {
  setGhostTileRows(null);
  setGhostKernelShape(null);
  setGhostSplitK(null);
});

describe('ghost tile rows: which tiles a work split can stage', () => {
  it('needs whole loads of one tile per K group and the staging within the workgroup memory', () => {
    const KiB = 1024;
    // 64 rows, 16 of K, 2 groups: 2 groups × 2 tiles × 64 rows × 5 vec4s = 20 KiB
    expect(ghostTileRowsFit(64, { bk: 16, kg: 2 }, 32 * KiB)).toBe(true);
    expect(ghostTileRowsFit(64, { bk: 16, kg: 2 }, 16 * KiB)).toBe(false);
    expect(ghostTileRowsFit(64, { bk: 32, kg: 2 }, 32 * KiB)).toBe(false); // 36 KiB
    expect(ghostTileRowsFit(48, { bk: 32, kg: 1 }, 16 * KiB)).toBe(true); // 13.5 KiB
    expect(ghostTileRowsFit(40, { bk: 16, kg: 2 }, 32 * KiB)).toBe(false); // 160 vec4s a tile step: not whole loads of 64
    expect(ghostTileRowsFit(56, { bk: 32, kg: 1 }, 32 * KiB)).toBe(false); // not a tile size the kernels take
    expect(ghostTileRowsFit(32, { bk: 32, kg: 2 }, 32 * KiB)).toBe(true); // the default: 18 KiB
  });

  it('setGhostTileRows sets every T\'s tiles (and the partials\' width), refuses a split that cannot stage them', () => {
    setGhostKernelShape({ bk: 16, kg: 2 });
    setGhostTileRows(64);
    expect(ghostTileRows(128)).toBe(64);
    expect(ghostTileRows(197)).toBe(64);
    expect(ghostLayerWidth(128, 768, false)).toBe(3); // 2 row blocks: 3 pairs
    expect(ghostLayerWidth(128, 768, true)).toBe(6); // and 3 bias chunks of 256 columns
    expect(() => setGhostKernelShape({ bk: 32, kg: 4 })).toThrow(/the 64-row tiles set by setGhostTileRows do not fit 32x4/);
    setGhostTileRows(null);
    expect(ghostTileRows(128)).toBe(32);
    setGhostKernelShape({ bk: 32, kg: 4 });
    expect(() => setGhostTileRows(64)).toThrow(/64-row tiles do not fit the work split 32x4/);
  });
});

describe('ghost norms on 48- and 64-row tiles (webgpu) equal float64 per-sample norms', () => {
  // ragged tiles, T = 1, B = 1, K not a multiple of 4 (scalar loads), a T of several tiles, bias chunks
  const shapes: [number, number, number, number][] = [[3, 5, 7, 9], [2, 70, 100, 70], [1, 1, 3, 4], [2, 129, 64, 300], [2, 33, 300, 17]];
  const cases: [48 | 64, GhostKernelShape, number][] = [
    [48, { bk: 16, kg: 2 }, 0],
    [48, { bk: 32, kg: 1 }, 4096],
    [64, { bk: 16, kg: 2 }, 0],
    [64, { bk: 16, kg: 2 }, 4096], // with K split over workgroups
  ];
  for (const [rows, shape, split] of cases) {
    it(`${rows} rows, ${shape.bk}x${shape.kg}${split ? ', K split' : ''}: norms, partials with the bias, many layers`, async () => {
      setGhostKernelShape(shape);
      setGhostTileRows(rows);
      setGhostSplitK(split);
      for (const [b, t, d, p] of shapes) {
        const label = `B ${b}, T ${t}, d ${d}, p ${p}`;
        const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 51) as tf.Tensor3D;
        const g = tf.randomNormal([b, t, p], 0, 1, 'float32', 52) as tf.Tensor3D;
        const [av, gv] = [(await a.data()) as Float32Array, (await g.data()) as Float32Array];
        const before = tf.memory().numTensors;
        const sq = ghostSqNorm(a, g);
        const got = await sq.data();
        const plain = reference(av, gv, b, t, d, p, false);
        plain.forEach((r, i) => expect(Math.abs(got[i]! - r) / r, label).toBeLessThan(2e-5));
        const partials = ghostSqNormPartials(a, g, { bias: true });
        expect(partials === null).toBe(tf.getBackend() !== 'webgpu');
        const many = ghostSqNormPartialsMany([{ a, g, bias: true }, { a, g }]);
        if (partials && many) {
          expect(partials.shape).toEqual([b, ghostLayerWidth(t, p, true)]);
          const withBias = reference(av, gv, b, t, d, p, true);
          const sums = await sumRows(partials);
          withBias.forEach((r, i) => expect(Math.abs(sums[i]! - r) / r, label).toBeLessThan(2e-5));
          const both = await sumRows(many);
          withBias.forEach((r, i) => expect(Math.abs(both[i]! - (r + plain[i]!)) / (r + plain[i]!), label).toBeLessThan(2e-5));
          tf.dispose([partials, many]);
        }
        sq.dispose();
        expect(tf.memory().numTensors, label).toBe(before);
        tf.dispose([a, g]);
      }
    }, 300_000); // lavapipe compiles each variant's pipelines (one to two minutes each: large unrolled blocks)
  }
});
