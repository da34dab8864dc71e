// Where a WebGPU dispatch's cost goes through the `webgpu` npm package (Dawn), without TF.js: the
// same trivial kernel dispatched N times, adding one API call per variant (what the TF.js webgpu
// backend does per kernel: a bind group, a uniform write, a submit every 15 dispatches, a staging
// upload). Prints CPU µs per dispatch to enqueue and wall µs per dispatch until the queue drains.
// Then TF.js chains of adds: tensor + tensor, tensor + a JS number (a scalar uploaded each call,
// through queue.writeBuffer as `setupBackend` installs, and through TF.js's own staging buffer).
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/dawn-dispatch.ts -- --n 2000
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setupBackend, useQueueWriteUploads } from '@clipwise/core';

const { values } = parseArgs({ options: { n: { type: 'string' }, size: { type: 'string' } }, allowPositionals: true });
const n = Number(values.n ?? 2000);
const size = Number(values.size ?? 1024);
await setupBackend('webgpu');
// the device TF.js created: the same Dawn instance, so both halves of this bench share one device
const device = (tf.backend() as unknown as { device: GPUDevice }).device;

const code = `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<uniform> u: vec4<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x < arrayLength(&y)) { y[g.x] = x[g.x] + u.x; }
}`;
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const bufs = [0, 1].map(() => device.createBuffer({ size: size * 4, usage: storage }));
const uniforms = Array.from({ length: 64 }, () => device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }));
const bindGroup = (i: number, u: GPUBuffer) =>
  device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: bufs[(i + 1) % 2]! } },
      { binding: 1, resource: { buffer: bufs[i % 2]! } },
      { binding: 2, resource: { buffer: u } },
    ],
  });
const fixedGroups = [bindGroup(0, uniforms[0]!), bindGroup(1, uniforms[0]!)];

interface Variant {
  newBindGroup?: boolean;
  writeUniform?: boolean;
  submitEvery?: number;
  stagingUpload?: boolean;
}
async function run(label: string, v: Variant) {
  const once = () => {
    let encoder = device.createCommandEncoder();
    let pass = encoder.beginComputePass();
    let inPass = 0;
    let staged: GPUBuffer[] = [];
    const submit = () => {
      pass.end();
      device.queue.submit([encoder.finish()]);
      for (const b of staged) b.destroy();
      staged = [];
    };
    const one = new Float32Array([1, 0, 0, 0]);
    for (let i = 0; i < n; i++) {
      const u = uniforms[i % uniforms.length]!;
      if (v.writeUniform) device.queue.writeBuffer(u, 0, one);
      if (v.stagingUpload) {
        // TF.js uploads a JS value through a fresh mapped-at-creation buffer, destroyed after submit
        pass.end();
        const staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
        new Float32Array(staging.getMappedRange()).set(one);
        staging.unmap();
        encoder.copyBufferToBuffer(staging, 0, u, 0, 16);
        pass = encoder.beginComputePass();
        staged.push(staging);
      }
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, v.newBindGroup ? bindGroup(i, u) : fixedGroups[i % 2]!);
      pass.dispatchWorkgroups(Math.ceil(size / 64));
      if (v.submitEvery && ++inPass >= v.submitEvery) {
        submit();
        encoder = device.createCommandEncoder();
        pass = encoder.beginComputePass();
        inPass = 0;
      }
    }
    submit();
  };
  once();
  await device.queue.onSubmittedWorkDone();
  const t0 = performance.now();
  once();
  const t1 = performance.now();
  await device.queue.onSubmittedWorkDone();
  const t2 = performance.now();
  console.log(`| ${label} | ${((1000 * (t1 - t0)) / n).toFixed(1)} | ${((1000 * (t2 - t0)) / n).toFixed(1)} |`);
}

console.log(`Dawn, ${n} dispatches of y = x + u over ${size} floats\n| variant | CPU µs/dispatch | wall µs/dispatch |\n| --- | ---: | ---: |`);
await run('one pass, fixed bind groups, one submit', {});
await run('+ a new bind group per dispatch', { newBindGroup: true });
await run('+ a uniform write per dispatch', { newBindGroup: true, writeUniform: true });
await run('+ a submit every 15 dispatches (TF.js default)', { newBindGroup: true, writeUniform: true, submitEvery: 15 });
await run('+ a submit every dispatch', { newBindGroup: true, writeUniform: true, submitEvery: 1 });
await run('+ a staging upload per dispatch (submit every 15)', { newBindGroup: true, writeUniform: true, submitEvery: 15, stagingUpload: true });

const x = tf.ones([size]);
const c = tf.scalar(1);
async function chain(label: string, f: (y: tf.Tensor) => tf.Tensor) {
  const go = () => {
    let y = x;
    for (let i = 0; i < n; i++) {
      const z = f(y);
      if (y !== x) y.dispose();
      y = z;
    }
    return y;
  };
  const sync = async (y: tf.Tensor) => {
    const one = tf.slice(y, [0], [1]);
    await one.data();
    tf.dispose([one, y]);
  };
  await sync(go());
  const t0 = performance.now();
  const y = go();
  const t1 = performance.now();
  await sync(y);
  const t2 = performance.now();
  console.log(`| ${label} | ${((1000 * (t1 - t0)) / n).toFixed(1)} | ${((1000 * (t2 - t0)) / n).toFixed(1)} |`);
}
console.log(`\nTF.js webgpu, chains of ${n} adds over ${size} floats\n| chain | CPU µs/launch | wall µs/launch |\n| --- | ---: | ---: |`);
await chain('tf.add(y, y)', (y) => tf.add(y, y));
await chain('tf.add(y, c), c an uploaded scalar tensor', (y) => tf.add(y, c));
await chain('tf.add(y, 1), a new scalar per call (queue.writeBuffer upload)', (y) => tf.add(y, 1));
useQueueWriteUploads(false);
await chain('tf.add(y, 1), a new scalar per call (TF.js staging upload)', (y) => tf.add(y, 1));
useQueueWriteUploads();
for (const batch of [1, 100]) {
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
  await chain(`tf.add(y, y), submit every ${batch}`, (y) => tf.add(y, y));
}
