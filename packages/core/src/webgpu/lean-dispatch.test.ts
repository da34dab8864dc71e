import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { activeBindGroupCache, packProgramUniforms, useLeanDispatch } from './lean-dispatch';
import { addGaussianNoiseToAll } from '../random/noise-in-place';
import type { UniformSlot } from './uniform-arena';

interface Entry {
  type: string;
  data: number[];
}

/** The uniform block as TF.js 4.x builds it: recordAndSubmit's list, then its own makeUniforms (on a stub backend that keeps the bytes). */
function tfjsBlock(inputs: number[][], output: number[], size: boolean, outputComponent: number | undefined, own: Entry[]): Uint8Array {
  const list: Entry[] = [{ type: 'float32', data: [NaN] }, { type: 'float32', data: [Infinity] }];
  for (const shape of [...inputs, output]) {
    list.push({ type: 'int32', data: shape });
    list.push({ type: 'int32', data: tf.util.computeStrides(shape) });
  }
  if (size) {
    const n = tf.util.sizeFromShape(output);
    list.push({ type: 'int32', data: [outputComponent ? n / outputComponent : n] });
  }
  list.push(...own.map((e) => ({ type: e.type, data: [...e.data] })));
  let bytes = new Uint8Array(0);
  const stub = {
    bufferManager: { acquireBuffer: () => ({}) },
    queue: { writeBuffer: (_b: unknown, _o: number, ab: ArrayBuffer, _d: number, n: number) => (bytes = new Uint8Array(ab.slice(0, n))) },
    uniformPendingDisposal: [] as unknown[],
  };
  (WebGPUBackend.prototype as unknown as { makeUniforms(u: Entry[]): unknown }).makeUniforms.call(stub, list);
  return bytes;
}

function leanBlock(inputs: number[][], output: number[], size: boolean, outputComponent: number | undefined, own: Entry[]): Uint8Array {
  const buf = new ArrayBuffer(4096);
  const bytes = new Uint8Array(buf);
  // a dirty arena: the block must zero its own padding
  bytes.fill(0xab);
  const at = 256;
  const arena = {
    reserve: (n: number): UniformSlot => {
      bytes.fill(0, at, at + n);
      return { buffer: {} as GPUBuffer, offset: at, bytes, f32: new Float32Array(buf), i32: new Int32Array(buf), u32: new Uint32Array(buf), at, word: at / 4 };
    },
  };
  const program = { pipeline: {} as GPUComputePipeline, size, outputShape: output, outputComponent, dispatch: [1, 1, 1] as [number, number, number] };
  const info = (shape: number[]) => ({ shape, dtype: 'float32', dataId: {} }) as tf.TensorInfo;
  const own2 = own.map((e) => ({ type: e.type, data: [...e.data] }));
  const binding = packProgramUniforms(arena, program, info(output), inputs.map(info), own2);
  expect(binding.offset).toBe(at);
  return bytes.slice(at, at + binding.size!);
}

describe('useLeanDispatch', () => {
  // makeUniforms reads the WebGPU usage flags, which only exist where a WebGPU implementation is loaded
  const g = globalThis as { GPUBufferUsage?: object };
  if (!g.GPUBufferUsage) g.GPUBufferUsage = { COPY_DST: 8, UNIFORM: 64 };
  afterAll(() => useLeanDispatch());

  it("packs TF.js's uniform block byte for byte (ranks 0-6, size, vec4 outputs, program fields of 0-6 values)", () => {
    const cases: [number[][], number[], boolean, number | undefined, Entry[]][] = [
      [[[4, 5]], [4, 5], true, undefined, []],
      [[[], [7]], [7], true, undefined, [{ type: 'float32', data: [0.5] }]],
      [[[2, 3, 4], [2, 3, 4]], [2, 3, 4], true, 4, [{ type: 'int32', data: [3, -1] }]],
      [[[2, 3, 4, 5, 6]], [6, 5, 4, 3, 2], false, undefined, [{ type: 'int32', data: [1, 2, 3, 4, 5] }, { type: 'float32', data: [2.5] }]],
      [[[1, 2, 3, 4, 5, 6]], [1, 2, 3, 4, 5, 6], true, undefined, [{ type: 'uint32', data: [1, 2, 3, 4, 5, 6] }, { type: 'int32', data: [] }, { type: 'float32', data: [1, 2, 3] }]],
      [[[3, 1], [1, 9], [3, 9]], [3, 9], true, undefined, [{ type: 'float32', data: [1e-5, -2] }, { type: 'int32', data: [1, 2, 3, 4] }]],
      [[[8, 16, 32]], [8, 32], false, undefined, [{ type: 'int32', data: [16] }, { type: 'float32', data: [NaN] }, { type: 'int32', data: [1, 2, 3] }]],
    ];
    for (const [inputs, output, size, comp, own] of cases) {
      expect(Array.from(leanBlock(inputs, output, size, comp, own))).toEqual(Array.from(tfjsBlock(inputs, output, size, comp, own)));
    }
  });

  it("gives TF.js's own results across submits and reads, and switches off and on (webgpu; false elsewhere)", async () => {
    const run = () =>
      tf.tidy(() => {
        let x = tf.reshape(tf.range(0, 96, 1, 'float32'), [4, 24]);
        // more launches than a submit batch (15), broadcasting, reductions, a matmul, an int program
        for (let i = 0; i < 20; i++) x = tf.add(tf.mul(x, 0.5), tf.sin(tf.reshape(tf.range(0, 24), [1, 24])));
        const m = tf.matMul(x, x, false, true);
        const s = tf.sum(tf.softmax(m), 1);
        const k = tf.cast(tf.argMax(m, 1), 'float32');
        return [tf.concat([s, k]), tf.transpose(tf.reshape(x, [2, 2, 24]), [2, 0, 1])];
      });
    expect(useLeanDispatch()).toBe(tf.getBackend() === 'webgpu');
    const lean = run();
    const leanValues = await Promise.all(lean.map((t) => t.data()));
    useLeanDispatch(false);
    const own = run();
    const ownValues = await Promise.all(own.map((t) => t.data()));
    expect(useLeanDispatch()).toBe(tf.getBackend() === 'webgpu');
    const again = run();
    const againValues = await Promise.all(again.map((t) => t.data()));
    leanValues.forEach((v, i) => {
      expect(Array.from(v)).toEqual(Array.from(ownValues[i]!));
      expect(Array.from(v)).toEqual(Array.from(againValues[i]!));
    });
    tf.dispose([...lean, ...own, ...again]);
  });

  it("switched off, our own direct dispatches take the plain path too (a before/after compares whole steps; webgpu)", async () => {
    if (tf.getBackend() !== 'webgpu') return;
    const cache = activeBindGroupCache()!;
    const noise = () => {
      const out = addGaussianNoiseToAll([tf.ones([1000]), tf.ones([37])], [0, 1].map((k) => ({ seed: 3, stream: k, std: 1, scale: 0.5 })));
      return Promise.all(out.map(async (t) => {
        const v = Array.from(await t.data());
        t.dispose();
        return v;
      }));
    };
    const lean = await noise();
    const seen = cache.hits + cache.misses;
    expect(seen).toBeGreaterThan(0);
    useLeanDispatch(false);
    const own = await noise();
    expect(cache.hits + cache.misses).toBe(seen); // the noise kernel made its own bind group
    useLeanDispatch();
    expect(own).toEqual(lean);
  });
});
