import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { clippedRowSums } from './clipped-row-sums';
import type { ClipEpilogue } from './row-reductions';

/** float64: per group norms and factors, per row tensor its weighted column sums. */
function reference(rows: Float32Array[], shapes: [number, number][], groupOf: number[], clips: ClipEpilogue[]) {
  const b = shapes[0]![0];
  const norms = clips.map((_, g) => {
    const n = new Float64Array(b);
    rows.forEach((r, k) => {
      if (groupOf[k] !== g) return;
      const w = shapes[k]![1];
      for (let i = 0; i < b; i++) for (let j = 0; j < w; j++) n[i] += r[i * w + j]! ** 2;
    });
    return Array.from(n, Math.sqrt);
  });
  const factors = clips.map((c, g) => norms[g]!.map((n) => (c.automatic ? c.threshold / (n + c.gamma) : c.threshold / Math.max(n, c.threshold))));
  const sums = rows.map((r, k) => {
    const w = shapes[k]![1];
    const s = new Float64Array(w);
    for (let i = 0; i < b; i++) for (let j = 0; j < w; j++) s[j] += factors[groupOf[k]!]![i]! * r[i * w + j]!;
    return Array.from(s);
  });
  return { norms, factors, sums };
}

describe('clippedRowSums equals the float64 norms, factors and clipped sums', () => {
  const abadi = (threshold: number): ClipEpilogue => ({ threshold, automatic: false, gamma: 0 });
  // a layer norm's γ and β as one group (layer-wise) and as two (param-wise); odd widths past a
  // workgroup's 256 columns; B = 1; automatic clipping; some samples under their threshold
  const cases: { name: string; b: number; widths: number[]; groupOf: number[]; clips: ClipEpilogue[] }[] = [
    { name: 'γ and β one group', b: 16, widths: [768, 768], groupOf: [0, 0], clips: [abadi(1)] },
    { name: 'γ and β apart', b: 16, widths: [768, 768], groupOf: [0, 1], clips: [abadi(0.5), abadi(2)] },
    { name: 'odd widths, three row tensors', b: 5, widths: [300, 17, 513], groupOf: [1, 0, 1], clips: [abadi(3), abadi(1)] },
    { name: 'B = 1', b: 1, widths: [33], groupOf: [0], clips: [abadi(1)] },
    { name: 'automatic', b: 7, widths: [64, 64], groupOf: [0, 1], clips: [{ threshold: 1, automatic: true, gamma: 0.01 }, { threshold: 2, automatic: true, gamma: 0.1 }] },
    { name: 'large thresholds (every factor 1)', b: 9, widths: [40, 40], groupOf: [0, 0], clips: [abadi(1e6)] },
    { name: 'more samples than a workgroup has threads (B = 300)', b: 300, widths: [21, 70], groupOf: [0, 1], clips: [abadi(0.8), abadi(1.5)] },
  ];
  for (const { name, b, widths, groupOf, clips } of cases) {
    it(name, async () => {
      const rows = widths.map((w, k) => tf.randomNormal([b, w], 0, 0.2, 'float32', 11 + k) as tf.Tensor2D);
      const out = clippedRowSums(rows, groupOf, clips);
      const ref = reference(await Promise.all(rows.map((r) => r.data() as Promise<Float32Array>)), widths.map((w) => [b, w]), groupOf, clips);
      const close = (got: ArrayLike<number>, want: number[], tol: number) => {
        expect(got.length).toBe(want.length);
        want.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
      };
      for (let g = 0; g < clips.length; g++) {
        close(await out.norms[g]!.data(), ref.norms[g]!, 1e-5);
        close(await out.factors[g]!.data(), ref.factors[g]!, 1e-5);
      }
      for (let k = 0; k < rows.length; k++) close(await out.sums[k]!.data(), ref.sums[k]!, 1e-4);
      tf.dispose([...rows, ...out.sums, ...out.norms, ...out.factors]);
    });
  }

  it('names the problem with bad input', () => {
    const r = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => clippedRowSums([], [], [])).toThrow(/no rows/);
    expect(() => clippedRowSums([r], [1], [abadi(1)])).toThrow(/group 1 has no clip/);
    expect(() => clippedRowSums([r], [0], [abadi(1), abadi(1)])).toThrow(/group 1 has no rows/);
    expect(() => clippedRowSums([r, tf.zeros([3, 3]) as tf.Tensor2D], [0, 0], [abadi(1)])).toThrow(/B = 2/);
    r.dispose();
  });
});
