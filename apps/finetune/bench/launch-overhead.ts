// Per-launch cost of TF.js kernels on the active backend: N chained element-wise adds of a small
// tensor, synchronised once, with and without a gradient tape. What fusing kernels can save.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/launch-overhead.ts -- --backend webgpu
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setupBackend, type BackendName } from '@clipwise/core';

const { values } = parseArgs({ options: { 'submit-batch': { type: 'string' }, backend: { type: 'string' }, n: { type: 'string' }, size: { type: 'string' } }, allowPositionals: true });
await setupBackend((values.backend ?? 'auto') as BackendName);
if (values['submit-batch']) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(values['submit-batch']));
const n = Number(values.n ?? 2000);
const size = Number(values.size ?? 1024);
const x = tf.ones([size]);
const chain = () => {
  let y = x;
  for (let i = 0; i < n; i++) {
    const z = tf.add(y, 1);
    if (y !== x) y.dispose();
    y = z;
  }
  return y;
};
async function time(label: string, f: () => tf.Tensor) {
  (await f().data());
  const t0 = performance.now();
  const y = f();
  await tf.slice(tf.reshape(y, [-1]), [0], [1]).data();
  const ms = performance.now() - t0;
  y.dispose();
  console.log(`${label}: ${n} launches in ${ms.toFixed(1)} ms = ${((1000 * ms) / n).toFixed(1)} µs/launch`);
}
await time('plain', chain);
await time('inside tidy', () => tf.tidy(chain));
const v = tf.variable(tf.ones([size]));
await time('under a gradient tape', () => {
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(chain(), v)) as tf.Scalar);
  tf.dispose(grads);
  return value;
});
