import * as tf from '@tensorflow/tfjs-core';
import { ElementwiseProgram, type ElementwiseInput } from '../webgpu/elementwise-program';
import { RowProgram, type RowSpec } from '../webgpu/row-program';
export type { RowSpec, RowInput, RowReduction } from '../webgpu/row-program';
import { onWebgpu, registerWebgpuKernel, type WebGpuBackendLike } from '../webgpu/webgpu-program';

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
  const spec = attrs as unknown as { names: string[]; broadcasts: ElementwiseInput['broadcast'][]; expr: string; key: string; shape: number[] };
  const ins = spec.names.map((n, i) => ({ name: n, broadcast: spec.broadcasts[i]! }));
  const program = new ElementwiseProgram(spec.shape, ins, spec.expr, spec.key);
  return backend.runWebGPUProgram(program, spec.names.map((n) => inputs[n]!), 'float32');
});

/** Runs a row program from inside a webgpu kernel function (rows of length d; inputs in the spec's order). */
export function runRowProgram(backend: WebGpuBackendLike, spec: RowSpec, inputs: tf.TensorInfo[], rows: number, d: number, shape?: readonly number[]): tf.TensorInfo {
  return backend.runWebGPUProgram(new RowProgram(rows, d, spec, shape), inputs, 'float32', [{ type: 'int32', data: [d] }, { type: 'int32', data: [rows] }]);
}

registerWebgpuKernel(ROW, ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as { spec: RowSpec; rows: number; d: number; shape: number[] };
  return runRowProgram(backend, a.spec, a.spec.inputs.map((i) => inputs[i.name]!), a.rows, a.d, a.shape);
});

/**
 * Runs an element-wise WGSL expression (webgpu only). `inputs` maps single-letter names to tensors:
 * full-size ones are flattened, `suffix` ones must be 1-D and divide the size. Output has `shape`.
 */
export function runElementwise(key: string, expr: string, inputs: Record<string, tf.Tensor>, shape: readonly number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const names = Object.keys(inputs);
  const broadcasts = names.map((n) => (inputs[n]!.size === size ? 'full' : 'suffix'));
  for (const n of names) {
    const t = inputs[n]!;
    if (t.size !== size && (t.rank !== 1 || size % t.size !== 0)) throw new Error(`fused ${key}: input ${n} [${t.shape}] neither matches [${shape}] nor is a 1-D suffix of it`);
  }
  // the kernel reads every input flat and writes `shape`: no reshapes around it
  return tf.engine().runKernel(ELEMENTWISE, inputs as tf.NamedTensorMap, { names, broadcasts, expr, key, shape: [...shape] } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * Runs a row program (webgpu only) over the last axis of `shape`; `row` inputs have `shape`'s size
 * (any shape), `vec` inputs are [d], `scalar` inputs one value a row. Returns `shape`, or `shape`
 * without its last axis for `perRow`.
 */
export function runRow(spec: RowSpec, inputs: Record<string, tf.Tensor>, shape: readonly number[]): tf.Tensor {
  const d = shape[shape.length - 1]!;
  const rows = shape.reduce((a, b) => a * b, 1) / d;
  const named: Record<string, tf.Tensor> = {};
  for (const inp of spec.inputs) named[inp.name] = inputs[inp.name]!;
  const out = spec.perRow ? shape.slice(0, -1) : [...shape];
  return tf.engine().runKernel(ROW, named as tf.NamedTensorMap, { spec, rows, d, shape: out } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
