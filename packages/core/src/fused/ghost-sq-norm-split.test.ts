import * as tf from '@tensorflow/tfjs-core';
import { ghostReference as reference, sumRows } from './ghost-reference.test-util';
import { afterEach, describe, expect, it } from 'vitest';
import { ghostSqNorm, ghostSqNormPartials } from './ghost-sq-norm';
import { ghostSqNormPartialsMany } from './ghost-sq-norm-many';
import { DEFAULT_GHOST_SPLIT_TARGET, ghostSplit, ghostSplitTarget, setGhostSplitK } from './ghost-sq-norm-split-wgsl';
import { ghostTilePairs, setFittedGhostTiles, setGhostKernelShape } from './ghost-sq-norm-wgsl';

afterEach(() => {
  setGhostSplitK(null);
  setGhostKernelShape(null);
  setFittedGhostTiles(null);
});

describe('ghostSplit: how a layer\'s K splits over workgroups', () => {
  it('covers d and p with whole K steps, near the target, chunks in proportion to d and p', () => {
    setGhostSplitK(2048);
    for (const [b, t, d, p] of [[16, 128, 768, 2304], [16, 128, 3072, 768], [32, 197, 768, 768], [1, 1, 3, 4], [2, 40, 100, 70], [4, 64, 5000, 50257]] as const) {
      const s = ghostSplit(b, t, d, p)!;
      const { pairs } = ghostTilePairs(t);
      expect(s, `${[b, t, d, p]}`).not.toBeNull();
      expect(s.lenA % 64).toBe(0); // the default split stages 32 of K in each of 2 groups: 64 a step
      expect(s.lenG % 64).toBe(0);
      expect(s.chunksA * s.lenA).toBeGreaterThanOrEqual(d);
      expect((s.chunksA - 1) * s.lenA).toBeLessThan(d);
      expect(s.chunksG * s.lenG).toBeGreaterThanOrEqual(p);
      expect((s.chunksG - 1) * s.lenG).toBeLessThan(p);
      expect(s.chunksA + s.chunksG).toBeLessThanOrEqual(32);
      // no more workgroups than twice the target, and the larger K has at least as many chunks
      expect(b * pairs * (s.chunksA + s.chunksG)).toBeLessThanOrEqual(2 * 2048 + b * pairs);
      if (d > 2 * p) expect(s.chunksA).toBeGreaterThanOrEqual(s.chunksG);
      if (p > 2 * d) expect(s.chunksG).toBeGreaterThanOrEqual(s.chunksA);
    }
    expect(ghostSplit(16, 128, 768, 2304)).toEqual({ chunksA: 3, chunksG: 9, lenA: 256, lenG: 256 });
    // B × pairs already at half the target or more: the one-launch kernel
    expect(ghostSplit(16, 1024, 768, 768)).toBeNull(); // 528 pairs × 16
    // a target far above the GPU's parallelism: no scratch past 64 MiB (64 samples × 136 pairs × 32 chunks of 4 KiB)
    setGhostSplitK(10_000_000);
    expect(ghostSplit(64, 512, 768, 768)).toBeNull();
    expect(ghostSplit(4, 4096, 768, 768)).toBeNull(); // 8,256 pairs × 32 chunks: past a dispatch's 65,535 workgroups
    expect(ghostSplit(4, 128, 768, 768)).not.toBeNull(); // 40 pairs × 32 chunks × 4 KiB
    setGhostSplitK(0);
    expect(ghostSplit(16, 128, 768, 2304)).toBeNull();
  });

  it('reads CLIPWISE_GHOST_SPLIT_K once (on: the default target; unset: off) and refuses a bad target', () => {
    const env = process.env.CLIPWISE_GHOST_SPLIT_K;
    try {
      process.env.CLIPWISE_GHOST_SPLIT_K = 'on';
      setGhostSplitK(null);
      expect(ghostSplitTarget()).toBe(DEFAULT_GHOST_SPLIT_TARGET);
      process.env.CLIPWISE_GHOST_SPLIT_K = '512';
      setGhostSplitK(null);
      expect(ghostSplitTarget()).toBe(512);
      delete process.env.CLIPWISE_GHOST_SPLIT_K;
      setGhostSplitK(null);
      expect(ghostSplitTarget()).toBe(0);
    } finally {
      if (env === undefined) delete process.env.CLIPWISE_GHOST_SPLIT_K;
      else process.env.CLIPWISE_GHOST_SPLIT_K = env;
    }
    expect(() => setGhostSplitK(-1)).toThrow(/whole number ≥ 0/);
    expect(() => setGhostSplitK(1.5)).toThrow(/got 1.5/);
  });
});

describe('ghost norms with K split over workgroups (webgpu) equal float64 per-sample norms', () => {
  // ragged tiles, T = 1, B = 1, K not a multiple of 4 (scalar loads), K past one chunk, bias chunks
  const shapes: [number, number, number, number][] = [[3, 5, 7, 9], [2, 40, 100, 70], [2, 33, 300, 17], [1, 1, 3, 4], [1, 129, 64, 520], [2, 9, 12, 600]];
  for (const [b, t, d, p] of shapes) {
    it(`B ${b}, T ${t}, d ${d}, p ${p}: norms, partials with the bias, and many layers`, async () => {
      setGhostSplitK(4096); // every shape here splits
      expect(ghostSplit(b, t, d, p)).not.toBeNull();
      const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 41) as tf.Tensor3D;
      const g = tf.randomNormal([b, t, p], 0, 1, 'float32', 42) as tf.Tensor3D;
      const [av, gv] = [(await a.data()) as Float32Array, (await g.data()) as Float32Array];
      const before = tf.memory().numTensors;
      const sq = ghostSqNorm(a, g);
      const got = await sq.data();
      reference(av, gv, b, t, d, p, false).forEach((r, i) => expect(Math.abs(got[i]! - r) / r).toBeLessThan(2e-5));
      const partials = ghostSqNormPartials(a, g, { bias: true });
      expect(partials === null).toBe(tf.getBackend() !== 'webgpu');
      const many = ghostSqNormPartialsMany([{ a, g, bias: true }, { a, g }]);
      if (partials && many) {
        const withBias = reference(av, gv, b, t, d, p, true);
        const sums = await sumRows(partials);
        withBias.forEach((r, i) => expect(Math.abs(sums[i]! - r) / r).toBeLessThan(2e-5));
        // the second layer's columns land after the first's (the in-place launch)
        const both = await sumRows(many);
        const plain = reference(av, gv, b, t, d, p, false);
        withBias.forEach((r, i) => expect(Math.abs(both[i]! - (r + plain[i]!)) / (r + plain[i]!)).toBeLessThan(2e-5));
        tf.dispose([partials, many]);
      }
      sq.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, g]);
    }, 300_000); // lavapipe compiles the split kernels' pipelines
  }

  it('holds for 40-row tiles (T = 70) and another work split (16 of K × 4 groups)', async () => {
    const [b, t, d, p] = [2, 70, 200, 130];
    const a = tf.randomNormal([b, t, d], 0, 1, 'float32', 43) as tf.Tensor3D;
    const g = tf.randomNormal([b, t, p], 0, 1, 'float32', 44) as tf.Tensor3D;
    const ref = reference((await a.data()) as Float32Array, (await g.data()) as Float32Array, b, t, d, p, true);
    setGhostSplitK(4096);
    for (const [fitted, shape] of [[true, null], [false, { bk: 16, kg: 4 }]] as const) {
      setFittedGhostTiles(fitted);
      setGhostKernelShape(shape);
      const partials = ghostSqNormPartials(a, g, { bias: true });
      if (!partials) continue; // off webgpu
      const sums = await sumRows(partials);
      ref.forEach((r, i) => expect(Math.abs(sums[i]! - r) / r, `fitted ${fitted}`).toBeLessThan(2e-5));
      partials.dispose();
    }
    tf.dispose([a, g]);
  }, 300_000);
});
