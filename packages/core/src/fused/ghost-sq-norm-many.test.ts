import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ghostSqNormPartials } from './ghost-sq-norm';
import { ghostSqNormPartialsMany, type GhostSqNormPair } from './ghost-sq-norm-many';
import { fittedGhostTilesEnabled, setFittedGhostTiles } from './ghost-sq-norm-wgsl';
import { ghostNormsFloat64 as reference } from './ghost-reference.test-util';

/** Gram entries covered by tiles of `rows` rows (upper-triangle tile pairs × rows²). */
const area = (t: number, rows: number) => { const n = Math.ceil(t / rows); return ((n * (n + 1)) / 2) * rows * rows; };

/** The layer's columns in the partials: its tile pairs (40-row tiles with fitted tiles where they pad less), then (bias) ⌈p/256⌉ chunks. */
function widthOf(t: number, p: number, bias: boolean): number {
  const rows = fittedGhostTilesEnabled() && area(t, 40) < area(t, 32) ? 40 : 32;
  const blocks = Math.ceil(t / rows);
  return (blocks * (blocks + 1)) / 2 + (bias ? Math.ceil(p / 256) : 0);
}

const webgpu = () => tf.getBackend() === 'webgpu';

/** Layers of one batch: [T, d, p, bias]: ragged tiles (T not a multiple of 32), T = 1, p above a bias chunk. */
function makePairs(b: number, shapes: readonly [number, number, number, boolean][], seed: number): GhostSqNormPair[] {
  return shapes.map(([t, d, p, bias], l) => ({
    a: tf.randomNormal([b, t, d], 0, 1, 'float32', seed + 2 * l) as tf.Tensor3D,
    g: tf.randomNormal([b, t, p], 0, 1, 'float32', seed + 2 * l + 1) as tf.Tensor3D,
    bias,
  }));
}

/** Each layer's row sums of `partials` against the float64 norms (weight, or weight + bias), within 2e-5 relative. */
async function expectLayerSums(partials: tf.Tensor2D, pairs: readonly GhostSqNormPair[]): Promise<void> {
  const [b, total] = partials.shape;
  const rows = (await partials.data()) as Float32Array;
  let col = 0;
  for (const { a, g, bias } of pairs) {
    const [, t, d] = a.shape;
    const p = g.shape[2];
    const ref = reference((await a.data()) as Float32Array, (await g.data()) as Float32Array, b, t, d, p);
    const w = widthOf(t, p, bias === true);
    for (let i = 0; i < b; i++) {
      let s = 0;
      for (let j = col; j < col + w; j++) s += rows[i * total + j]!;
      const want = ref.weight[i]! + (bias ? ref.bias[i]! : 0);
      expect(Math.abs(s - want) / want).toBeLessThan(2e-5);
    }
    col += w;
  }
  expect(col).toBe(total);
}

describe('ghostSqNormPartialsMany: many layers\' ghost partials side by side (fused on webgpu)', () => {
  const shapes: [number, number, number, boolean][] = [[9, 12, 7, true], [40, 48, 300, true], [1, 3, 4, false], [70, 20, 17, false], [33, 64, 600, true]];

  it('with fitted tiles (40 rows at T = 40, 70 and 33) the layers\' partials sit side by side as well', async () => {
    setFittedGhostTiles(true);
    try {
      const pairs = makePairs(2, shapes, 5);
      const partials = ghostSqNormPartialsMany(pairs);
      if (partials) {
        expect(partials.shape).toEqual([2, pairs.reduce((w, { a, g, bias }) => w + widthOf(a.shape[1], g.shape[2], bias === true), 0)]);
        await expectLayerSums(partials, pairs);
        partials.dispose();
      }
      tf.dispose(pairs.flatMap(({ a, g }) => [a, g]));
    } finally {
      setFittedGhostTiles(null);
    }
  }, 300_000); // lavapipe compiles the ghost kernel's pipelines here (40-row tiles too, on by default)

  it('row sums per layer equal the float64 per-sample norms (weight, weight + bias); null off webgpu', async () => {
    for (const b of [3, 1]) {
      for (const t of [9, 1]) {
        // T, d and p differ from layer to layer; then every layer at T = 1
        const pairs = makePairs(b, t === 1 ? shapes.map(([, d, p, bias]) => [1, d, p, bias]) : shapes, 10 * b + t);
        const before = tf.memory().numTensors;
        const partials = ghostSqNormPartialsMany(pairs);
        expect(partials === null).toBe(!webgpu());
        if (partials) {
          expect(partials.shape).toEqual([b, pairs.reduce((w, { a, g, bias }) => w + widthOf(a.shape[1], g.shape[2], bias === true), 0)]);
          await expectLayerSums(partials, pairs);
          partials.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose(pairs.flatMap(({ a, g }) => [a, g]));
      }
    }
  }, 300_000); // lavapipe compiles the ghost kernel's pipelines here (40-row tiles too, on by default)

  it('holds each layer\'s single-layer partials exactly, a launch a layer', async () => {
    const pairs = makePairs(2, shapes, 7);
    let partials: tf.Tensor2D | null = null;
    const profile = await tf.profile(() => void (partials = ghostSqNormPartialsMany(pairs)));
    const names = profile.kernels.map((k) => k.name).filter((n) => n.startsWith('ClipwiseGhostSqNorm'));
    expect(names.length).toBe(webgpu() ? pairs.length : 0);
    if (partials) {
      const got = await (partials as tf.Tensor2D).array();
      const singles = pairs.map(({ a, g, bias }) => ghostSqNormPartials(a, g, { bias })!);
      const want = tf.concat(singles, 1);
      expect(got).toEqual(await want.array());
      tf.dispose([partials, want, ...singles]);
    }
    tf.dispose(pairs.flatMap(({ a, g }) => [a, g]));
  });

  it('is null for a layer past the fused kernel\'s K limit, and refuses layers of another batch, naming the shapes', () => {
    const a = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    const wide = tf.zeros([2, 3, 4100]) as tf.Tensor3D;
    expect(ghostSqNormPartialsMany([{ a, g: a }, { a, g: wide }])).toBeNull();
    const other = tf.zeros([3, 3, 4]) as tf.Tensor3D;
    expect(() => ghostSqNormPartialsMany([{ a, g: a }, { a: other, g: other }])).toThrow(/a \[3,3,4\] and g \[3,3,4\].*B = 2/);
    expect(() => ghostSqNormPartialsMany([])).toThrow(/no layers/);
    tf.dispose([a, wide, other]);
  });
});
