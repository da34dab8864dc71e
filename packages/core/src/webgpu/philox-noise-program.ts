import type { WebGpuProgram } from './webgpu-program';
import { flatDispatch } from './webgpu-program';

/** WGSL: Philox4x32-10 and `philoxNormal4`, shared by the noise kernels. */
export const PHILOX_WGSL = /* wgsl */ `
fn mulhi32(a : u32, b : u32) -> u32 {
  let a0 = a & 0xffffu; let a1 = a >> 16u;
  let b0 = b & 0xffffu; let b1 = b >> 16u;
  let t = a0 * b0;
  let m1 = a1 * b0 + (t >> 16u);
  let m2 = a0 * b1 + (m1 & 0xffffu);
  return a1 * b1 + (m1 >> 16u) + (m2 >> 16u);
}
fn philox(ctr : vec4<u32>, key : vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var r = 0; r < 10; r++) {
    let hi0 = mulhi32(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
fn unitOf(w : u32) -> f32 { return (f32(w >> 8u) + 1.0) / 16777216.0; }
/** Four N(0, 1) values (Box–Muller) from Philox4x32-10 at counter (block, stream, 0, 0), key (seed, tag): philoxNormals in philox.ts. */
fn philoxNormal4(block : u32, stream : u32, seed : u32, tag : u32) -> vec4<f32> {
  let w = philox(vec4<u32>(block, stream, 0u, 0u), vec2<u32>(seed, tag));
  let r0 = sqrt(-2.0 * log(unitOf(w.x)));
  let t0 = 6.283185307179586 * unitOf(w.y) - 3.141592653589793;
  let r1 = sqrt(-2.0 * log(unitOf(w.z)));
  let t1 = 6.283185307179586 * unitOf(w.w) - 3.141592653589793;
  return vec4<f32>(r0 * cos(t0), r0 * sin(t0), r1 * cos(t1), r1 * sin(t1));
}
`;

/**
 * (x + std·z)·scale with z ~ N(0, 1) from Philox4x32-10 on the GPU, the same stream as the JS
 * `philoxNormals` (one thread a 4-element block). Drawing on the device is what keeps noise cheap:
 * `tf.randomNormal` on webgpu draws in JavaScript and uploads every value.
 */
export class PhiloxNoiseProgram implements WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  uniforms = 'seed : u32, stream : u32, tag : u32, stddev : f32, scale : f32,';

  constructor(
    size: number,
    private readonly withInput: boolean,
  ) {
    this.outputShape = [size];
    this.variableNames = withInput ? ['X'] : [];
    this.dispatch = flatDispatch(Math.ceil(size / 4), this.workgroupSize[0]);
    this.shaderKey = `clipwisePhiloxNoise_${withInput}`;
  }

  getUserCode(): string {
    return /* wgsl */ `
${PHILOX_WGSL}
fn main(block : i32) {
  let base = block * 4;
  if (base >= uniforms.size) { return; }
  let z = philoxNormal4(u32(block), uniforms.stream, uniforms.seed, uniforms.tag);
  for (var j = 0; j < 4; j++) {
    let i = base + j;
    if (i < uniforms.size) {
      var v = uniforms.stddev * z[j];
      ${this.withInput ? 'v = v + X[i];' : ''}
      result[i] = v * uniforms.scale;
    }
  }
}`;
  }
}
