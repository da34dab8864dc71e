import * as tf from '@tensorflow/tfjs-core';

/**
 * The parts of tfjs-backend-webgpu's program contract our kernels use, typed here so core needs no
 * import of the webgpu backend (it stays an optional peer). The backend builds the shader around
 * `getUserCode()`: inputs are storage arrays named by `variableNames`, the output is `result`, and
 * `uniforms` holds the shapes, `size` (when `size` is true) and the fields declared in `uniforms`.
 */
export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode(): string;
}

export interface ProgramUniform {
  type: 'float32' | 'int32' | 'uint32';
  data: number[];
}

/** The webgpu backend instance as our kernels see it. */
export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: ProgramUniform[]): tf.TensorInfo;
}

/** Registers a webgpu kernel once (re-registration would warn on every import). */
export function registerWebgpuKernel(
  kernelName: string,
  kernelFunc: (args: { inputs: tf.NamedTensorInfoMap; backend: WebGpuBackendLike; attrs: Record<string, unknown> }) => tf.TensorInfo,
): void {
  if (tf.getKernel(kernelName, 'webgpu')) return;
  tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/**
 * `info` [..., n] as [rows, n] inside a kernel: the same buffer under another shape, no engine tensor.
 * Kernels that take [B, T, n] operands as [B·T, n] make it here rather than at the call site, where
 * `tf.reshape` makes a tensor the engine counts as bytes of its own while it lives (a view of an LM
 * head's output gradient counted its whole size again, and the memory model's traced temporaries,
 * scaled from batch 1 and 2, missed it).
 *
 * @example
 * const x2 = rowsView(inputs['x']!); // [B, T, m] -> [B·T, m]
 */
export function rowsView(info: tf.TensorInfo): tf.TensorInfo {
  const n = info.shape[info.shape.length - 1] ?? 1;
  const rows = info.shape.slice(0, -1).reduce((x, y) => x * y, 1);
  return { dataId: info.dataId, shape: [rows, n], dtype: info.dtype };
}

/** True when the active backend is webgpu (our WGSL kernels apply). */
export function onWebgpu(): boolean {
  return tf.getBackend() === 'webgpu';
}

/** Workgroups of `size` threads covering `threads` threads along x (the backend folds > 65535 into y/z). */
export function flatDispatch(threads: number, size = 64): [number, number, number] {
  return [Math.ceil(threads / size), 1, 1];
}

/**
 * Runs a registered kernel on `flat` (flattened views of `inputs`), frees the views it made (those
 * not among `inputs`), and reshapes the output to `shape`.
 */
export function runFlattened(kernel: string, flat: Record<string, tf.Tensor>, inputs: Record<string, tf.Tensor>, attrs: object, shape: readonly number[]): tf.Tensor {
  const out = tf.engine().runKernel(kernel, flat as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  for (const [n, t] of Object.entries(flat)) if (t !== inputs[n]) t.dispose();
  const shaped = tf.reshape(out, shape as number[]);
  out.dispose();
  return shaped;
}
