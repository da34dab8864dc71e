import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setFusedKernels } from '../fused/fused-kernels';
import { planWasmMatmul, swapOperands, wasmMatmulPath, type WasmMatmulPath } from './register-wasm-matmul';
import { sliceableBatch } from './batched-matmul-by-slices';
import { runOnWasm } from './on-wasm.test-util';

// Values and gradients of our wasm matmul rewrites against TF.js's own wasm kernels (fused kernels
// off), on shapes that are not multiples of anything, each path at least once.
type Case = { a: number[]; b: number[]; ta: boolean; tb: boolean; path: WasmMatmulPath };
const CASES: Case[] = [
  { a: [37, 19], b: [19, 23], ta: false, tb: false, path: 'tfjs' },
  { a: [37, 19], b: [23, 19], ta: false, tb: true, path: 'transpose' },
  { a: [19, 37], b: [19, 23], ta: true, tb: false, path: 'transpose' },
  { a: [300, 7], b: [5, 300], ta: true, tb: true, path: 'swap' },
  { a: [3, 41, 29], b: [29, 13], ta: false, tb: false, path: 'fold' },
  { a: [2, 3, 41, 29], b: [1, 13, 29], ta: false, tb: true, path: 'fold' },
  { a: [5, 67, 35], b: [5, 67, 45], ta: true, tb: false, path: 'slices' }, // per-sample gradients
  { a: [2, 3, 71, 29], b: [2, 3, 71, 29], ta: false, tb: true, path: 'slices' }, // attention scores
  { a: [1, 61, 70], b: [4, 70, 50], ta: false, tb: false, path: 'slices' }, // shared a
  { a: [4, 70, 61], b: [1, 70, 50], ta: true, tb: false, path: 'slices' }, // shared b
  { a: [2, 5, 7], b: [2, 3, 7], ta: false, tb: true, path: 'transpose' }, // a batch too small to slice
  { a: [6, 1, 3001], b: [6, 1, 3001], ta: false, tb: true, path: 'dots' }, // per-sample squared norms
  { a: [2, 3, 1, 77], b: [2, 3, 77, 1], ta: false, tb: false, path: 'dots' },
];

// TF.js's BatchMatMul gradient does not reduce over broadcast batch dimensions: those cases compare values
const sameBatch = (c: Case) => c.a.slice(0, -2).join() === c.b.slice(0, -2).join();

function productAndGrads(c: Case, seed: number): { y: Float32Array; da?: Float32Array; db?: Float32Array } {
  return tf.tidy(() => {
    const a = tf.randomNormal(c.a, 0, 1, 'float32', seed);
    const b = tf.randomNormal(c.b, 0, 1, 'float32', seed + 1);
    const y = tf.matMul(a, b, c.ta, c.tb).dataSync() as Float32Array;
    if (!sameBatch(c)) return { y };
    // a loss with a non-constant output gradient, smooth enough that summation order barely moves it
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, w, c.ta, c.tb), tf.tanh(tf.matMul(x, w, c.ta, c.tb))));
    const [da, db] = tf.grads(f)([a, b]);
    return { y, da: da!.dataSync() as Float32Array, db: db!.dataSync() as Float32Array };
  });
}

function maxRelErr(got: Float32Array, want: Float32Array): number {
  let err = 0;
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return err / scale;
}

describe('wasm matmul kernels', () => {
  runOnWasm();

  it.each(CASES)('$path: $a × $b (transposeA $ta, transposeB $tb) matches TF.js (values; gradients where TF.js has them)', (c) => {
    expect(wasmMatmulPath(c.a, c.b, c.ta, c.tb)).toBe(c.path);
    setFusedKernels(false);
    const want = productAndGrads(c, 7);
    setFusedKernels(true);
    const n0 = tf.memory().numTensors;
    const got = productAndGrads(c, 7);
    expect(tf.memory().numTensors).toBe(n0);
    // float32 sums of ≤ 300 terms in another order: relative to the largest entry
    expect(got.y.length).toBe(want.y.length);
    expect(maxRelErr(got.y, want.y)).toBeLessThan(1e-5);
    if (sameBatch(c)) {
      expect(maxRelErr(got.da!, want.da!)).toBeLessThan(1e-4);
      expect(maxRelErr(got.db!, want.db!)).toBeLessThan(1e-4);
    }
  });

  it('keeps the wasm heap: no leaked bytes across products', () => {
    const c = CASES[7]!; // slices: temporaries on the heap per batch element
    productAndGrads(c, 1);
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 3; i++) productAndGrads(c, 1);
    expect(tf.memory().numBytes).toBe(bytes);
  });
});

describe('planning the wasm products', () => {
  it('folds rows, transposes, swaps and slices where each pays', () => {
    expect(planWasmMatmul([8, 9], [9, 4], false, false)).toBeNull();
    expect(planWasmMatmul([2, 8, 9], [9, 4], false, false)?.foldRows).toBe(true);
    expect(planWasmMatmul([2, 8, 9], [9, 4], false, false, 2)).toBeNull(); // a batched bias: as is
    expect(swapOperands([5120, 4096], [5120, 128], true, false)).toBe(true);
    expect(swapOperands([5120, 128], [4096, 128], false, true)).toBe(false);
    expect(sliceableBatch([32, 160, 128], [32, 160, 512], true, false)).toBe(true);
    expect(sliceableBatch([32, 4, 4], [32, 4, 4], false, false)).toBe(false); // too small to pay
    expect(sliceableBatch([2, 3, 64, 64], [3, 2, 64, 64], false, false)).toBe(false); // other batch shapes
  });
});
