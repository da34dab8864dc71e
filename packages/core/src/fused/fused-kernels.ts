import * as tf from '@tensorflow/tfjs-core';
import { ElementwiseProgram, type ElementwiseInput } from '../webgpu/elementwise-program';
import { RowProgram, type RowSpec } from '../webgpu/row-program';
export type { RowSpec, RowInput, RowReduction } from '../webgpu/row-program';
import { onWebgpu, registerWebgpuKernel, runFlattened, type WebGpuBackendLike } from '../webgpu/webgpu-program';

let enabled = true;

/**
 * Turns Clipwise's fused kernels on or off (default on). Off, layers run the plain TF.js ops they
 * replace: the reference in tests, and the "before" of benchmarks.
 */
export function setFusedKernels(on: boolean): void {
  enabled = on;
}

/** Whether layers use their fused forms (hand-written backward; one WGSL kernel each on webgpu). */
export function fusedKernelsEnabled(): boolean {
  return enabled;
}

/** Whether the fused forms run as WGSL (webgpu backend) rather than as TF.js ops. */
export function fusedOnDevice(): boolean {
  return enabled && onWebgpu();
}

const ELEMENTWISE = 'ClipwiseElementwise';
const ROW = 'ClipwiseRow';

registerWebgpuKernel(ELEMENTWISE, ({ inputs, backend, attrs }) => {
  const spec = attrs as unknown as { names: string[]; broadcasts: ElementwiseInput['broadcast'][]; expr: string; key: string; size: number };
  const ins = spec.names.map((n, i) => ({ name: n, broadcast: spec.broadcasts[i]! }));
  const program = new ElementwiseProgram(spec.size, ins, spec.expr, spec.key);
  return backend.runWebGPUProgram(program, spec.names.map((n) => inputs[n]!), 'float32');
});

/** Runs a row program from inside a webgpu kernel function (rows of length d; inputs in the spec's order). */
export function runRowProgram(backend: WebGpuBackendLike, spec: RowSpec, inputs: tf.TensorInfo[], rows: number, d: number): tf.TensorInfo {
  return backend.runWebGPUProgram(new RowProgram(rows, d, spec), inputs, 'float32', [{ type: 'int32', data: [d] }, { type: 'int32', data: [rows] }]);
}

registerWebgpuKernel(ROW, ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as { spec: RowSpec; rows: number; d: number };
  return runRowProgram(backend, a.spec, a.spec.inputs.map((i) => inputs[i.name]!), a.rows, a.d);
});

/**
 * Runs an element-wise WGSL expression (webgpu only). `inputs` maps single-letter names to tensors:
 * full-size ones are flattened, `suffix` ones must be 1-D and divide the size. Output has `shape`.
 */
export function runElementwise(key: string, expr: string, inputs: Record<string, tf.Tensor>, shape: readonly number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const names = Object.keys(inputs);
  const broadcasts = names.map((n) => (inputs[n]!.size === size ? 'full' : 'suffix'));
  const flat: Record<string, tf.Tensor> = {};
  for (const n of names) {
    const t = inputs[n]!;
    if (t.size !== size && (t.rank !== 1 || size % t.size !== 0)) throw new Error(`fused ${key}: input ${n} [${t.shape}] neither matches [${shape}] nor is a 1-D suffix of it`);
    flat[n] = t.rank === 1 ? t : tf.reshape(t, [size]);
  }
  return runFlattened(ELEMENTWISE, flat, inputs, { names, broadcasts, expr, key, size }, shape);
}

/**
 * Runs a row program (webgpu only) over the last axis of `shape`; `row` inputs have `shape`, `vec`
 * inputs are [d], `scalar` inputs one value a row. Returns `shape`, or `shape` without its last axis for `perRow`.
 */
export function runRow(spec: RowSpec, inputs: Record<string, tf.Tensor>, shape: readonly number[]): tf.Tensor {
  const d = shape[shape.length - 1]!;
  const rows = shape.reduce((a, b) => a * b, 1) / d;
  const flat: Record<string, tf.Tensor> = {};
  for (const inp of spec.inputs) {
    const t = inputs[inp.name]!;
    flat[inp.name] = inp.kind === 'row' ? tf.reshape(t, [rows, d]) : tf.reshape(t, [-1]);
  }
  return runFlattened(ROW, flat, inputs, { spec, rows, d }, spec.perRow ? shape.slice(0, -1) : shape);
}
