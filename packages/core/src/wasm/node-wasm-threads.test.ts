import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { setupBackend } from '../backend/setup-backend';
import { parseWasmThreads } from './node-wasm-threads';

// TF.js's threaded wasm build in Node: asked-for threads, the same products as the cpu backend,
// globals put back, and a process that exits by itself (idle pool threads must not hold it).
describe('wasm threads in Node', () => {
  it('a thread count outside 1–8 is an error naming where it came from', async () => {
    for (const bad of ['0', '9', '2.5', 'two', '']) expect(() => parseWasmThreads(bad, '--threads')).toThrow(/--threads: wasm threads must be a whole number from 1 to 8/);
    expect(parseWasmThreads('3', 'CLIPWISE_WASM_THREADS')).toBe(3);
    await expect(setupBackend('wasm', { wasmThreads: 0 })).rejects.toThrow(/wasmThreads: wasm threads must be a whole number/);
  });

  it('2 threads: XNNPACK gets them, products equal the cpu backend\'s, globals are restored', async () => {
    const cpus = os.cpus;
    const createObjectURL = URL.createObjectURL;
    const a = tf.randomNormal([96, 200], 0, 1, 'float32', 1);
    const b = tf.randomNormal([200, 130], 0, 1, 'float32', 2);
    await tf.setBackend('cpu');
    const want = tf.matMul(a, b).dataSync();
    const choice = await setupBackend('wasm', { wasmThreads: 2 });
    expect(choice).toMatchObject({ backend: 'wasm', threads: 2 });
    const got = tf.matMul(a, b).dataSync();
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 3));
    expect(os.cpus).toBe(cpus);
    expect(URL.createObjectURL).toBe(createObjectURL);
    await tf.setBackend('cpu');
  });

  it('a script on 2 wasm threads exits when done', async () => {
    // the built package, as a user's script imports it (vitest runs the sources)
    const script = `import * as tf from '@tensorflow/tfjs-core'; import { setupBackend } from '@clipwise/core';
      const c = await setupBackend('wasm', { wasmThreads: 2 }); const y = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]));
      console.log(c.threads, (await y.data())[0]);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname, timeout: 30_000 });
    expect(stdout.trim().split('\n').at(-1)).toBe('2 64');
  }, 40_000);
});
