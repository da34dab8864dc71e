import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { clippedRowSumsGroups, groupsPerLaunch, type RowGroup } from './clipped-row-sums-groups';
import type { ClipEpilogue } from './row-reductions';

/** float64: a group's per-sample norms, and its rows' sums weighted by the group's factors. */
async function reference(group: RowGroup): Promise<{ norms: number[]; sums: number[][] }> {
  const rows = await Promise.all(group.rows.map((r) => r.data() as Promise<Float32Array>));
  const b = group.rows[0]!.shape[0];
  const widths = group.rows.map((r) => r.shape[1]);
  const sq = new Float64Array(b);
  rows.forEach((r, k) => {
    for (let i = 0; i < b; i++) for (let j = 0; j < widths[k]!; j++) sq[i] += r[i * widths[k]! + j]! ** 2;
  });
  const norms = Array.from(sq, Math.sqrt);
  const { threshold: C, automatic, gamma } = group.clip;
  const c = norms.map((n) => (automatic ? C / (n + gamma) : C / Math.max(n, C)));
  const sums = rows.map((r, k) => {
    const s = new Float64Array(widths[k]!);
    for (let i = 0; i < b; i++) for (let j = 0; j < widths[k]!; j++) s[j] += c[i]! * r[i * widths[k]! + j]!;
    return Array.from(s);
  });
  return { norms, sums };
}

const close = (got: ArrayLike<number>, want: number[], tol: number) => {
  expect(got.length).toBe(want.length);
  want.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
};

describe('clippedRowSumsGroups equals the float64 norms and clipped sums of each group', () => {
  const abadi = (threshold: number): ClipEpilogue => ({ threshold, automatic: false, gamma: 0 });
  const groupsOf = (b: number, widths: number[][], clips: ClipEpilogue[]): RowGroup[] =>
    widths.map((ws, g) => ({ rows: ws.map((w, k) => tf.randomNormal([b, w], 0, 0.2, 'float32', 100 * g + k) as tf.Tensor2D), clip: clips[g]! }));
  // layer norms' γ and β (layer-wise: a group each), param-wise's one row a group, odd widths past a
  // workgroup's 256 columns, more groups than one launch takes, B = 1, B past 256, automatic clipping
  const cases: { name: string; b: number; widths: number[][]; clips: ClipEpilogue[] }[] = [
    { name: 'three layer norms, γ and β each', b: 16, widths: [[768, 768], [768, 768], [768, 768]], clips: [abadi(1), abadi(0.5), abadi(2)] },
    { name: 'one row a group (param-wise), more groups than a launch takes', b: 8, widths: Array.from({ length: 13 }, (_, g) => [40 + 37 * g]), clips: Array.from({ length: 13 }, (_, g) => abadi(0.3 + 0.2 * g)) },
    { name: 'odd widths and groups of one and two rows', b: 5, widths: [[300, 17], [513], [1, 2]], clips: [abadi(3), abadi(1), abadi(0.01)] },
    { name: 'B = 1', b: 1, widths: [[33, 9], [33, 9]], clips: [abadi(1), abadi(0.1)] },
    { name: 'B = 300', b: 300, widths: [[21, 70], [64]], clips: [abadi(0.8), abadi(1.5)] },
    { name: 'automatic', b: 7, widths: [[64, 64], [50, 50]], clips: [{ threshold: 1, automatic: true, gamma: 0.01 }, { threshold: 2, automatic: true, gamma: 0.1 }] },
    { name: 'one group', b: 4, widths: [[96, 96]], clips: [abadi(1)] },
  ];
  for (const { name, b, widths, clips } of cases) {
    it(name, async () => {
      const groups = groupsOf(b, widths, clips);
      const before = tf.memory().numTensors;
      const out = clippedRowSumsGroups(groups);
      // the results, nothing else, are new tensors
      expect(tf.memory().numTensors - before).toBe(groups.reduce((n, g) => n + g.rows.length + 1, 0));
      expect(out).toHaveLength(groups.length);
      for (const [g, group] of groups.entries()) {
        const ref = await reference(group);
        close(await out[g]!.norms.data(), ref.norms, 1e-5);
        for (const [k, s] of out[g]!.sums.entries()) close(await s.data(), ref.sums[k]!, 1e-4);
      }
      tf.dispose([...groups.flatMap((g) => g.rows), ...out.flatMap((o) => [...o.sums, o.norms])]);
    });
  }

  it.runIf(tf.getBackend() === 'webgpu')('launches once for as many groups as the device binds', async () => {
    const per = groupsPerLaunch(2);
    expect(per).toBeGreaterThan(1);
    const groups: RowGroup[] = Array.from({ length: per + 1 }, (_, g) => ({ rows: [tf.ones([4, 64]) as tf.Tensor2D, tf.ones([4, 64]) as tf.Tensor2D], clip: abadi(1 + g) }));
    let out: ReturnType<typeof clippedRowSumsGroups> = [];
    const info = await tf.profile(() => void (out = clippedRowSumsGroups(groups)));
    // one launch of the grouped kernel for the first `per` groups; the last alone, by clippedRowSums
    expect(info.kernelNames).toEqual(['ClipwiseClippedRowSumsGroups', 'ClipwiseClippedRowSums']);
    tf.dispose([...groups.flatMap((g) => g.rows), ...out.flatMap((o) => [...o.sums, o.norms])]);
  });

  it('names the problem with bad input', () => {
    const r = tf.zeros([2, 3]) as tf.Tensor2D;
    const other = tf.zeros([3, 3]) as tf.Tensor2D;
    expect(() => clippedRowSumsGroups([{ rows: [], clip: abadi(1) }])).toThrow(/group 0 has no rows/);
    expect(() => clippedRowSumsGroups([{ rows: [r], clip: abadi(1) }, { rows: [other], clip: abadi(1) }])).toThrow(/B = 2, got \[3,3\] in group 1/);
    expect(() => clippedRowSumsGroups([{ rows: [r], clip: abadi(1) }, { rows: [r], clip: { threshold: 1, automatic: true, gamma: 0 } }])).toThrow(/same clipping function/);
    expect(clippedRowSumsGroups([])).toEqual([]);
    tf.dispose([r, other]);
  });
});
