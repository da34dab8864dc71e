import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { clippedOuterSum, clippedOuterSumWithBias, setScaleNarrowOperand } from './clipped-outer-sum';

describe('clippedOuterSum equals Σ_b c_b x_bᵀ y_b in float64', () => {
  // vec4 loads, odd widths (scalar loads), long B·T (split-K), small m (plain path), c null
  const cases: [number, number, number, number, boolean][] = [[3, 5, 20, 17, true], [2, 130, 36, 40, true], [16, 128, 64, 48, true], [4, 7, 8, 30, true], [2, 9, 24, 20, false]];
  for (const [b, t, m, n, withC] of cases) {
    it(`x [${b}, ${t}, ${m}], y [${b}, ${t}, ${n}], c ${withC ? '[B]' : 'null'}`, async () => {
      const x = tf.randomNormal([b, t, m], 0, 1, 'float32', 1) as tf.Tensor3D;
      const y = tf.randomNormal([b, t, n], 0, 1, 'float32', 2) as tf.Tensor3D;
      const c = withC ? (tf.randomUniform([b], 0, 1, 'float32', 3) as tf.Tensor1D) : null;
      const out = clippedOuterSum(x, y, c);
      expect(out.shape).toEqual([m, n]);
      const [xv, yv, cv, got] = await Promise.all([x.data(), y.data(), c ? c.data() : Promise.resolve(null), out.data()]);
      let num = 0;
      let den = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let s0 = 0; s0 < b; s0++) for (let r = 0; r < t; r++) s += (cv ? cv[s0]! : 1) * xv[(s0 * t + r) * m + i]! * yv[(s0 * t + r) * n + j]!;
          num += (got[i * n + j]! - s) ** 2;
          den += s * s;
        }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
      tf.dispose([x, y, out, ...(c ? [c] : [])]);
    });
  }
});

describe('clippedOuterSum with a K-scaled operand far wider than the other (an LM head)', () => {
  // x 65,536 wide (2^20 elements: the narrow scaling's least), y 16 wide
  const [b, t, m, n] = [2, 8, 65536, 16];
  for (const on of [false, true])
    it(`scales ${on ? 'y in a multiply of its own' : "x's K axis in the product"} (CLIPWISE_SCALE_NARROW ${on ? 'on' : 'off'}), against float64`, async () => {
      const x = tf.randomNormal([b, t, m], 0, 1, 'float32', 7) as tf.Tensor3D;
      const y = tf.randomNormal([b, t, n], 0, 1, 'float32', 8) as tf.Tensor3D;
      const c = tf.tensor1d([0.25, 1.5]);
      setScaleNarrowOperand(on);
      try {
        const before = tf.memory().numTensors;
        let out!: tf.Tensor2D;
        const profile = await tf.profile(() => void (out = clippedOuterSum(x, y, c)));
        const kernels = profile.kernels.map((k) => k.name).filter((k) => k !== 'Reshape');
        if (tf.getBackend() === 'webgpu') expect(kernels).toEqual(on ? ['Multiply', 'ClipwiseClippedOuterSum'] : ['ClipwiseClippedOuterSum']);
        const [xv, yv, got] = await Promise.all([x.data(), y.data(), out.data()]);
        const cv = [0.25, 1.5];
        let num = 0;
        let den = 0;
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let s0 = 0; s0 < b; s0++) for (let r = 0; r < t; r++) s += cv[s0]! * xv[(s0 * t + r) * m + i]! * yv[(s0 * t + r) * n + j]!;
            num += (got[i * n + j]! - s) ** 2;
            den += s * s;
          }
        expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
        out.dispose();
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        setScaleNarrowOperand(null);
        tf.dispose([x, y, c]);
      }
    });
});

describe('clippedOuterSumWithBias: the weight and the bias sums from one product, against float64', () => {
  // vec4 (m a multiple of 4) and scalar staging, split-K (long B·T) with and without vec4 sums, tiny shapes, c null
  const cases: [number, number, number, number, boolean][] = [
    [3, 5, 20, 17, true], [2, 130, 36, 40, true], [16, 128, 64, 48, true], [16, 128, 63, 50, true], [4, 7, 8, 30, true], [2, 9, 24, 20, false], [1, 1, 3, 2, true], [8, 300, 12, 16, false],
  ];
  for (const [b, t, m, n, withC] of cases)
    for (const biasOf of ['y', 'x'] as const) {
    it(`x [${b}, ${t}, ${m}], y [${b}, ${t}, ${n}], c ${withC ? '[B]' : 'null'}, the bias of ${biasOf}`, async () => {
      const x = tf.randomNormal([b, t, m], 0, 1, 'float32', 4) as tf.Tensor3D;
      const y = tf.randomNormal([b, t, n], 0, 1, 'float32', 5) as tf.Tensor3D;
      const c = withC ? (tf.randomUniform([b], 0, 1, 'float32', 6) as tf.Tensor1D) : null;
      const before = tf.memory().numTensors;
      let out!: ReturnType<typeof clippedOuterSumWithBias>;
      const profile = await tf.profile(() => void (out = clippedOuterSumWithBias(x, y, c, { biasOf })));
      // one kernel on webgpu (the product and its split-K sum), no column sum
      if (tf.getBackend() === 'webgpu') expect(profile.kernels.map((k) => k.name).filter((k) => k !== 'Reshape')).toEqual(['ClipwiseClippedOuterSumBias']);
      expect(out.weight.shape).toEqual([m, n]);
      expect(out.bias.shape).toEqual([biasOf === 'y' ? n : m]);
      const [xv, yv, cv, w, bias] = await Promise.all([x.data(), y.data(), c ? c.data() : Promise.resolve(null), out.weight.data(), out.bias.data()]);
      const err = (got: ArrayLike<number>, want: number[]) => {
        let num = 0;
        let den = 0;
        want.forEach((v, i) => {
          num += (got[i]! - v) ** 2;
          den += v * v;
        });
        return Math.sqrt(num / den);
      };
      const wRef: number[] = [];
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let s0 = 0; s0 < b; s0++) for (let r = 0; r < t; r++) s += (cv ? cv[s0]! : 1) * xv[(s0 * t + r) * m + i]! * yv[(s0 * t + r) * n + j]!;
          wRef.push(s);
        }
      const [src, w0] = biasOf === 'y' ? [yv, n] : [xv, m];
      const bRef = Array.from({ length: w0 }, (_, j) => {
        let s = 0;
        for (let s0 = 0; s0 < b; s0++) for (let r = 0; r < t; r++) s += (cv ? cv[s0]! : 1) * src[(s0 * t + r) * w0 + j]!;
        return s;
      });
      expect(err(w, wRef)).toBeLessThan(1e-5);
      expect(err(bias, bRef)).toBeLessThan(1e-5);
      tf.dispose([out.weight, out.bias]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y, ...(c ? [c] : [])]);
    });
    }
});

describe('the clipped outer sums hold no engine bytes beyond their outputs on webgpu', () => {
  // the [B·T, ·] operands are views made inside the kernel: reshapes at the call site were engine
  // tensors counted at their full size (an LM head's dy a second time), which the memory model missed
  const peakAbove = async (f: (x: tf.Tensor3D, y: tf.Tensor3D, c: tf.Tensor1D | null) => tf.Tensor[], withC: boolean) => {
    const x = tf.randomNormal([4, 33, 40], 0, 1, 'float32', 1) as tf.Tensor3D;
    const y = tf.randomNormal([4, 33, 24], 0, 1, 'float32', 2) as tf.Tensor3D;
    const c = withC ? (tf.ones([4]) as tf.Tensor1D) : null;
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => tf.dispose(f(x, y, c)));
    tf.dispose([x, y, ...(c ? [c] : [])]);
    return Math.max(...info.kernels.map((k) => k.totalBytesSnapshot - before));
  };
  for (const withC of [true, false]) {
    it.runIf(tf.getBackend() === 'webgpu')(`c ${withC ? '[B]' : 'null'}`, async () => {
      expect(await peakAbove((x, y, c) => [clippedOuterSum(x, y, c)], withC)).toBe(40 * 24 * 4);
      expect(await peakAbove((x, y, c) => Object.values(clippedOuterSumWithBias(x, y, c)), withC)).toBe((40 * 24 + 24) * 4);
    });
  }
});
