import * as tf from '@tensorflow/tfjs-core';
import { registerInPlaceKernel, runInPlaceKernel, storageBindingsPerDispatch, withOwnStorage } from '../webgpu/direct-dispatch';
import { dispatchSlots, slotBranches } from '../webgpu/slot-dispatch';
import { onWebgpu } from '../webgpu/webgpu-program';
import { addGaussianNoise, checkDraw, type GaussianDraw } from './gaussian-noise';
import { PHILOX_KEY_TAG } from './philox';
import { PHILOX_WGSL } from '../webgpu/philox-noise-program';

/** Tensors per dispatch at most: one storage binding each (fewer where the device offers fewer). */
const MAX_SLOTS = 32;
const WORKGROUP = 256;
const MAX_WORKGROUPS = 4096;
const KERNEL = 'ClipwiseNoiseInPlace';

/**
 * (x + std·z)·scale for many tensors at once, each with its own draw: the release of a private
 * step (one per parameter) and the mean of a non-private one (std 0). Takes ownership of `xs`: the
 * results are to be used (and disposed) instead. On webgpu it writes the tensors in place, as many in
 * one dispatch as the device binds (8 to 32: `storageBindingsPerDispatch`), with exactly `addGaussianNoise`'s numbers (the same Philox counters); 148 launches
 * became 19 for GPT-2 small. Elsewhere it is `addGaussianNoise` per tensor.
 *
 * @example
 * const grads = addGaussianNoiseToAll(sums, sums.map((_, k) => ({ seed, stream: first + k, std: sigma * C, scale: 1 / batch })));
 */
export function addGaussianNoiseToAll(xs: readonly tf.Tensor[], draws: readonly GaussianDraw[]): tf.Tensor[] {
  if (xs.length !== draws.length) throw new RangeError(`gaussian noise: ${xs.length} tensors but ${draws.length} draws`);
  draws.forEach(checkDraw);
  if (!onWebgpu()) {
    return xs.map((x, k) => {
      const d = draws[k]!;
      const out = d.std === 0 ? (d.scale === undefined || d.scale === 1 ? x : tf.mul(x, d.scale)) : addGaussianNoise(x, x.shape, d);
      if (out !== x) x.dispose();
      return out;
    });
  }
  // a tensor that shares storage (or is not float32) gets a copy of its own before the write
  const own = xs.map((x) => {
    const o = withOwnStorage(x);
    if (o !== x) x.dispose();
    return o;
  });
  const slots = storageBindingsPerDispatch(MAX_SLOTS);
  for (let i = 0; i < own.length; i += slots) {
    const inputs = Object.fromEntries(own.slice(i, i + slots).map((t, k) => [`x${k}`, t]));
    runInPlaceKernel(KERNEL, inputs, { draws: draws.slice(i, i + slots) });
  }
  return own;
}

registerInPlaceKernel(KERNEL, (inputs, attrs) => {
  const draws = (attrs as unknown as { draws: GaussianDraw[] }).draws;
  const xs = draws.map((_, k) => inputs[`x${k}`]!);
  // a slot's items are 4-element blocks: one Philox draw gives 4 normals
  const sizes = xs.map((x) => tf.util.sizeFromShape(x.shape));
  dispatchSlots({
    key: `${KERNEL}_${xs.length}`,
    source: () => ({
      bindings: xs.map((_, k) => `@group(0) @binding(${k}) var<storage, read_write> x${k} : array<f32>;`).join('\n'),
      prelude: PHILOX_WGSL,
      body: noiseBody(xs.length),
    }),
    slotFields: ['size : u32', 'seed : u32', 'stream : u32', 'stddev : f32', 'scale : f32'],
    sharedFields: ['tag : u32'],
    sharedValues: [['u', PHILOX_KEY_TAG]],
    buffers: xs.map((x) => ({ tensor: x, write: true })),
    slots: draws.map((d, k) => ({
      items: Math.ceil(sizes[k]! / 4),
      values: [['u', sizes[k]!], ['u', d.seed], ['u', d.stream], ['f', d.std], ['f', d.scale ?? 1]],
    })),
    workgroupSize: WORKGROUP,
    maxWorkgroups: MAX_WORKGROUPS,
  });
});

/** Block i of the slot: its 4 normals (counter = block index), added, scaled and written in place. */
function noiseBody(slots: number): string {
  return /* wgsl */ `
    let sd = slot.stddev;
    let sc = slot.scale;
    var z = vec4<f32>(0.0);
    if (sd != 0.0) { z = philoxNormal4(i, slot.stream, slot.seed, uni.tag); }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let e = i * 4u + j;
      let n = slot.size;
      ${slotBranches(slots, (k) => ` if (e < n) { x${k}[e] = (x${k}[e] + sd * z[j]) * sc; }`)}
    }`;
}

/**
 * x·scale for each tensor, in place where the backend allows (a release's 1/(qN) without noise, a
 * non-private mean): `addGaussianNoiseToAll` with no noise. Takes ownership of `xs`.
 *
 * @example
 * const means = scaleAll(sums, 1 / batchSize);
 */
export function scaleAll(xs: readonly tf.Tensor[], scale: number): tf.Tensor[] {
  return addGaussianNoiseToAll(xs, xs.map(() => ({ seed: 0, stream: 0, std: 0, scale })));
}
