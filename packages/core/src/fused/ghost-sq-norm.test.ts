import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ghostSqNorm, ghostSqNormPartials, setFusedGhostNorm } from './ghost-sq-norm';
import { fittedGhostTilesEnabled, ghostLayerWidth, ghostTileRows, setFittedGhostTiles, setGhostKernelShape, setGhostNormPrefetch, type GhostKernelShape } from './ghost-sq-norm-wgsl';

/** ‖a_iᵀ g_i‖²_F per sample in float64, from the per-sample gradient itself (no Gram matrices). */
function reference(a: Float32Array, g: Float32Array, b: number, t: number, d: number, p: number): Float64Array {
  const out = new Float64Array(b);
  for (let i = 0; i < b; i++)
    for (let x = 0; x < d; x++)
      for (let y = 0; y < p; y++) {
        let s = 0;
        for (let k = 0; k < t; k++) s += a[(i * t + k) * d + x]! * g[(i * t + k) * p + y]!;
        out[i]! += s * s;
      }
  return out;
}

/** ‖Σ_t g_it‖² per sample in float64: the squared norm of the per-sample bias gradient. */
function biasReference(g: Float32Array, b: number, t: number, p: number): Float64Array {
  const out = new Float64Array(b);
  for (let i = 0; i < b; i++)
    for (let y = 0; y < p; y++) {
      let c = 0;
      for (let k = 0; k < t; k++) c += g[(i * t + k) * p + y]!;
      out[i]! += c * c;
    }
  return out;
}

describe('ghostSqNorm (fused on webgpu) equals the per-sample gradient norms in float64', () => {
  // one tile, a ragged last tile (T not a multiple of 32), many tiles, K not a multiple of 16, B = 1, T = 1
  const shapes: [number, number, number, number][] = [[3, 5, 7, 9], [2, 40, 100, 70], [2, 33, 20, 17], [4, 70, 48, 5], [1, 1, 3, 4], [1, 129, 64, 40], [5, 32, 16, 16], [2, 9, 12, 600]];
  for (const [b, t, d, p] of shapes) {
    it(`B ${b}, T ${t}, d ${d}, p ${p}`, async () => {
      const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 1) as tf.Tensor3D;
      const g = tf.randomNormal([b, t, p], 0, 1, 'float32', 2) as tf.Tensor3D;
      const before = tf.memory().numTensors;
      let sq!: tf.Tensor1D;
      const profile = await tf.profile(() => void (sq = ghostSqNorm(a, g)));
      expect(sq.shape).toEqual([b]);
      // the fused kernel where it is registered (webgpu), the plain ops elsewhere
      expect(profile.kernelNames.includes('ClipwiseGhostSqNorm')).toBe(tf.getBackend() === 'webgpu');
      const ref = reference((await a.data()) as Float32Array, (await g.data()) as Float32Array, b, t, d, p);
      const got = await sq.data();
      ref.forEach((r, i) => expect(Math.abs(got[i]! - r) / r).toBeLessThan(2e-5));
      // the partials' row sums are the same norms (webgpu); null where the fused kernel does not run
      const partials = ghostSqNormPartials(a, g);
      expect(partials === null).toBe(tf.getBackend() !== 'webgpu');
      if (partials) {
        const blocks = Math.ceil(t / ghostTileRows(t)); // 32-row tiles, or 40 where fitted tiles are on and pad T less
        expect(partials.shape).toEqual([b, (blocks * (blocks + 1)) / 2]);
        const summed = tf.sum(partials, 1);
        const rows = await summed.data();
        ref.forEach((r, i) => expect(Math.abs(rows[i]! - r) / r).toBeLessThan(2e-5));
        tf.dispose([partials, summed]);
        // with the bias: its chunks after the tiles, rows summing to ‖a_iᵀ g_i‖² + ‖Σ_t g_it‖²
        const gv = (await g.data()) as Float32Array;
        const withBias = ghostSqNormPartials(a, g, { bias: true })!;
        expect(withBias.shape).toEqual([b, (blocks * (blocks + 1)) / 2 + Math.ceil(p / 256)]);
        const bothSum = tf.sum(withBias, 1);
        const both = await bothSum.data();
        const biasSq = biasReference(gv, b, t, p);
        ref.forEach((r, i) => expect(Math.abs(both[i]! - (r + biasSq[i]!)) / (r + biasSq[i]!)).toBeLessThan(2e-5));
        tf.dispose([withBias, bothSum]);
      }
      sq.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, g]);
    }, 300_000); // lavapipe compiles the ghost kernel's pipelines here (40-row tiles too, on by default)
  }

  it('gives the same norms through the two Gram matmuls (fused kernel off, or K above its limit)', async () => {
    const a = tf.randomNormal([3, 40, 24], 0, 1, 'float32', 5) as tf.Tensor3D;
    const g = tf.randomNormal([3, 40, 4100], 0, 1, 'float32', 6) as tf.Tensor3D;
    const wide = ghostSqNorm(a, g); // p above the fused kernel's K limit
    setFusedGhostNorm(false);
    const off = ghostSqNorm(a, a);
    setFusedGhostNorm(true);
    const on = ghostSqNorm(a, a);
    const ref = reference((await a.data()) as Float32Array, (await g.data()) as Float32Array, 3, 40, 24, 4100);
    const refSelf = reference((await a.data()) as Float32Array, (await a.data()) as Float32Array, 3, 40, 24, 24);
    const [w, o, n] = [await wide.data(), await off.data(), await on.data()];
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(w[i]! - ref[i]!) / ref[i]!).toBeLessThan(2e-5);
      expect(Math.abs(o[i]! - refSelf[i]!) / refSelf[i]!).toBeLessThan(2e-5);
      expect(Math.abs(n[i]! - refSelf[i]!) / refSelf[i]!).toBeLessThan(2e-5);
    }
    tf.dispose([a, g, wide, off, on]);
  }, 300_000); // lavapipe compiles the ghost kernel's pipelines here (40-row tiles too, on by default)

  it('gives the same partials whether or not the kernel loads the next K step during the products', async () => {
    for (const [b, t, d, p] of [[2, 40, 100, 70], [2, 33, 64, 48]] as const) {
      const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 7) as tf.Tensor3D;
      const g = tf.randomNormal([b, t, p], 0, 1, 'float32', 8) as tf.Tensor3D;
      const ref = reference((await a.data()) as Float32Array, (await g.data()) as Float32Array, b, t, d, p);
      for (const mode of ['never', 'always'] as const) {
        setGhostNormPrefetch(mode);
        const sq = ghostSqNorm(a, g);
        const got = await sq.data();
        ref.forEach((r, i) => expect(Math.abs(got[i]! - r) / r).toBeLessThan(2e-5));
        sq.dispose();
      }
      tf.dispose([a, g]);
    }
  }, 180_000); // on lavapipe it passed 60 s while another file's pipelines compiled beside it

  it('gives the weight\'s and the bias\'s norms for every work split of the kernel (K per step, K groups)', async () => {
    const shapes: GhostKernelShape[] = [{ bk: 16, kg: 4 }, { bk: 32, kg: 2 }, { bk: 8, kg: 4 }, { bk: 16, kg: 2 }, { bk: 8, kg: 8 }, { bk: 32, kg: 1 }, { bk: 16, kg: 1 }];
    try {
      for (const [b, t, d, p] of [[2, 40, 100, 300], [2, 7, 5, 3]] as const) {
        const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 21) as tf.Tensor3D;
        const g = tf.randomNormal([b, t, p], 0, 1, 'float32', 22) as tf.Tensor3D;
        const [av, gv] = [(await a.data()) as Float32Array, (await g.data()) as Float32Array];
        const ref = reference(av, gv, b, t, d, p);
        const bias = biasReference(gv, b, t, p);
        for (const shape of shapes) {
          setGhostKernelShape(shape);
          const partials = ghostSqNormPartials(a, g, { bias: true });
          if (!partials) continue; // off webgpu: no fused kernel
          const sums = (await tf.sum(partials, 1).data()) as Float32Array;
          ref.forEach((r, i) => expect(Math.abs(sums[i]! - (r + bias[i]!)) / (r + bias[i]!), JSON.stringify(shape)).toBeLessThan(2e-5));
          partials.dispose();
        }
        tf.dispose([a, g]);
      }
    } finally {
      setGhostKernelShape(null);
    }
    expect(() => setGhostKernelShape({ bk: 32, kg: 8 })).toThrow(/bk must be 8, 16 or 32 and kg 1, 2, 4 or 8/);
    expect(() => setGhostKernelShape({ bk: 12, kg: 4 })).toThrow(/got \{"bk":12,"kg":4\}/);
  }, 300_000); // lavapipe compiles a pipeline per split and load path

  it('fitted tiles: 40-row tiles where they pad T less (T = 33, 40, 70, 197), the same norms and bias norms as float64', async () => {
    // which tile pads less, counted here apart from the kernel's own rule
    const area = (t: number, rows: number) => { const n = Math.ceil(t / rows); return ((n * (n + 1)) / 2) * rows * rows; };
    setFittedGhostTiles(true);
    try {
      expect(fittedGhostTilesEnabled()).toBe(true);
      for (const t of [1, 5, 32, 33, 40, 41, 70, 128, 129, 197]) expect(ghostTileRows(t), `T ${t}`).toBe(area(t, 40) < area(t, 32) ? 40 : 32);
      expect([33, 40, 70, 197].map(ghostTileRows)).toEqual([40, 40, 40, 40]);
      // other work splits keep 32-row tiles (the 40-row staging needs 32 of K a step, at most 2 K groups)
      setGhostKernelShape({ bk: 16, kg: 4 });
      expect(ghostTileRows(197)).toBe(32);
      setGhostKernelShape(null);
      for (const [b, t, d, p] of [[2, 40, 100, 70], [2, 33, 20, 17], [1, 70, 48, 300], [1, 197, 36, 12]] as const) {
        const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 31) as tf.Tensor3D;
        const g = tf.randomNormal([b, t, p], 0, 1, 'float32', 32) as tf.Tensor3D;
        const [av, gv] = [(await a.data()) as Float32Array, (await g.data()) as Float32Array];
        const ref = reference(av, gv, b, t, d, p);
        const sq = ghostSqNorm(a, g);
        const got = await sq.data();
        ref.forEach((r, i) => expect(Math.abs(got[i]! - r) / r, `T ${t}`).toBeLessThan(2e-5));
        for (const kg of [1, 2]) {
          setGhostKernelShape({ bk: 32, kg });
          const partials = ghostSqNormPartials(a, g, { bias: true });
          if (partials) {
            const n = Math.ceil(t / 40);
            expect(partials.shape).toEqual([b, (n * (n + 1)) / 2 + Math.ceil(p / 256)]);
            expect(partials.shape[1]).toBe(ghostLayerWidth(t, p, true));
            const sums = (await tf.sum(partials, 1).data()) as Float32Array;
            const biasSq = biasReference(gv, b, t, p);
            ref.forEach((r, i) => expect(Math.abs(sums[i]! - (r + biasSq[i]!)) / (r + biasSq[i]!), `T ${t}, kg ${kg}`).toBeLessThan(2e-5));
            partials.dispose();
          }
        }
        setGhostKernelShape(null);
        tf.dispose([a, g, sq]);
      }
    } finally {
      setFittedGhostTiles(null);
      setGhostKernelShape(null);
    }
    // back to the default: on unless CLIPWISE_GHOST_FITTED_TILES=off
    expect(ghostTileRows(197)).toBe(process.env.CLIPWISE_GHOST_FITTED_TILES === 'off' ? 32 : 40);
    setFittedGhostTiles(false);
    expect([33, 40, 70, 197].map(ghostTileRows)).toEqual([32, 32, 32, 32]); // off: 32-row tiles everywhere
    setFittedGhostTiles(null);
  }, 300_000); // lavapipe compiles a pipeline per tile, split and load path

  it('refuses operands whose batch or sequence differ, naming the shapes', () => {
    const a = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    const g = tf.zeros([2, 4, 4]) as tf.Tensor3D;
    expect(() => ghostSqNorm(a, g)).toThrow(/a \[2,3,4\] and g \[2,4,4\]/);
    tf.dispose([a, g]);
  });
});
