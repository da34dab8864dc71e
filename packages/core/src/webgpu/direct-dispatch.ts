import * as tf from '@tensorflow/tfjs-core';
import { registerWebgpuKernel } from './webgpu-program';
import { leanDispatchParts } from './lean-dispatch';

/** The tfjs-backend-webgpu 4.x internals a direct dispatch joins (its command stream, pool and profiler). */
interface BackendInternals {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: { get(dataId: unknown): { resource: unknown; refCount: number; values: unknown; dtype: tf.DataType } };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  uploadToGPU(dataId: unknown): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  uniformPendingDisposal: GPUBuffer[];
  dispatchCountInPass: number;
  activeTimers: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
}

/** A buffer a direct dispatch binds: a tensor's storage, read-only or written in place. */
export interface DirectBinding {
  readonly tensor: tf.TensorInfo;
  readonly write?: boolean;
  /**
   * What the shader declares the buffer as (default `'float32'`, `array<f32>`). The storage must hold
   * that type: TF.js casts bool and int32 to float32 as a view of the int32 storage, whose bits an
   * `array<f32>` reads as denormals (1 → 1.4e-45, flushed to 0 on NVIDIA), so such a view is refused.
   */
  readonly dtype?: 'float32' | 'int32';
}

/** One compute dispatch of a hand-written WGSL module (entry point `main`), outside TF.js's program wrapper. */
export interface DirectDispatch {
  /** Identifies `code` (pipelines are cached by it); also the name in kernel profiles. */
  readonly key: string;
  /** Full WGSL (or a function making it, called only when `key` is new): bindings 0..n-1 are `buffers` in order, binding n the uniform block (when `uniforms` is given). */
  readonly code: string | (() => string);
  readonly buffers: readonly DirectBinding[];
  /** Uniform block bytes (16-byte multiple), or none. */
  readonly uniforms?: ArrayBuffer;
  readonly workgroups: readonly [number, number, number];
}

const pipelines = new WeakMap<GPUDevice, Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>>();

function internals(): BackendInternals {
  const b = tf.backend() as unknown as BackendInternals;
  if (tf.getBackend() !== 'webgpu' || typeof b.ensureCommandEncoderReady !== 'function' || !b.device) {
    throw new Error('dispatchDirect needs the tfjs-backend-webgpu 4.x backend active');
  }
  return b;
}

/** Storage bindings every WebGPU device offers (the spec's default `maxStorageBuffersPerShaderStage`). */
const SPEC_STORAGE_BINDINGS = 8;

/**
 * How many storage buffers one direct dispatch may bind: the webgpu device's
 * `maxStorageBuffersPerShaderStage`, at most `cap` (larger shaders branch on more slots for little
 * gain), 8 off webgpu. In Node, `setupBackend` asks Dawn for the adapter's whole limit (lavapipe: 16);
 * a browser's device keeps the spec's 8. Multi-tensor kernels (the noise, the optimizer update) bind
 * this many, so a higher limit means fewer launches.
 */
export function storageBindingsPerDispatch(cap = 32): number {
  const b = tf.backend() as unknown as Partial<BackendInternals>;
  const limit = tf.getBackend() === 'webgpu' ? b.device?.limits?.maxStorageBuffersPerShaderStage : undefined;
  return Math.max(SPEC_STORAGE_BINDINGS, Math.min(cap, limit ?? SPEC_STORAGE_BINDINGS));
}

/**
 * Whether `t`'s storage belongs to it alone (no other tensor shares its data), so writing it in place
 * changes no other tensor's value. Reshapes and clones share storage in TF.js.
 */
export function ownsStorage(t: tf.TensorInfo): boolean {
  return internals().tensorMap.get(t.dataId).refCount === 1;
}

/**
 * `t` when it owns its storage (float32), else a float32 copy that does, for a kernel about to write it
 * in place. The caller frees `t` when a copy came back.
 */
export function withOwnStorage<T extends tf.Tensor>(t: T): T {
  return t.dtype === 'float32' && ownsStorage(t) ? t : (tf.tidy(() => tf.mul(tf.cast(t, 'float32'), tf.scalar(1))) as T);
}

/**
 * Registers a webgpu kernel that only writes tensors in place (`dispatchDirect`): `run` dispatches,
 * and the kernel's output is an empty tensor (the engine wants one). Run it with `runInPlaceKernel`,
 * which makes it one profiled kernel however many dispatches it records.
 */
export function registerInPlaceKernel(name: string, run: (inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>) => void): void {
  registerWebgpuKernel(name, ({ inputs, backend, attrs }) => {
    run(inputs, attrs);
    return (backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo }).makeTensorInfo([0], 'float32');
  });
}

/** Runs a kernel of `registerInPlaceKernel` and frees its empty output. */
export function runInPlaceKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): void {
  (tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dispose();
}

/**
 * Records one dispatch into the webgpu backend's own command stream, in order with every TF.js kernel
 * before and after it, and binds tensors' buffers directly, so a kernel can update several tensors in
 * place (an optimizer's p, m and v in one pass, which TF.js's one-output programs cannot). Costs one
 * bind group and dispatch (no shader key, no per-launch shape uniforms). Joins the backend's kernel
 * profiler (timestamp queries) like its own programs.
 *
 * The caller must own what it writes (`ownsStorage`); TF.js treats tensors as immutable.
 *
 * @example
 * dispatchDirect({ key: 'double', code: WGSL, buffers: [{ tensor: x, write: true }], workgroups: [n / 64, 1, 1] });
 */
export function dispatchDirect(d: DirectDispatch): void {
  const b = internals();
  let cache = pipelines.get(b.device);
  if (!cache) pipelines.set(b.device, (cache = new Map()));
  let entry = cache.get(d.key);
  if (!entry) {
    const module = b.device.createShaderModule({ code: typeof d.code === 'string' ? d.code : d.code(), label: d.key });
    const pipeline = b.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: d.key });
    entry = { pipeline, layout: pipeline.getBindGroupLayout(0) };
    cache.set(d.key, entry);
  }
  const count = d.buffers.length;
  // each binding's entry, looked up once; its storage type checked before anything is uploaded or
  // marked, so a refused dispatch leaves the backend as it was (uploadToGPU fills in the same entry)
  const data = d.buffers.map((binding, i) => {
    const stored = b.tensorMap.get(binding.tensor.dataId);
    const dtype = stored.dtype;
    const want = binding.dtype ?? 'float32';
    if ((dtype === 'bool' ? 'int32' : dtype) !== want) {
      throw new Error(
        `dispatchDirect ${d.key}: binding ${i} holds ${dtype} storage where the kernel reads ${want} ` +
          `(a tf.cast of a ${dtype} tensor is a view of its storage on webgpu: compute the value in ${want}, e.g. with tf.where)`,
      );
    }
    return stored;
  });
  const buffers: GPUBuffer[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const binding = d.buffers[i]!;
    b.uploadToGPU(binding.tensor.dataId);
    // pending commands use these buffers: the backend must not recycle them before it submits
    b.commandQueueOwnedIds.add(binding.tensor.dataId as object);
    // a read caches the values on the CPU beside the buffer; a write in place makes that copy stale
    if (binding.write) data[i]!.values = null;
    buffers[i] = data[i]!.resource as GPUBuffer;
  }
  // while useLeanDispatch is on: the uniform block goes to its arena and the bind group to its cache
  const lean = leanDispatchParts(b);
  let uniform: GPUBufferBinding | null = null;
  if (d.uniforms) {
    const bytes = d.uniforms.byteLength;
    if (lean) {
      // written with the other blocks of this submit
      const slot = lean.arena.reserve(bytes);
      slot.bytes.set(new Uint8Array(d.uniforms), slot.at);
      uniform = { buffer: slot.buffer, offset: slot.offset, size: bytes };
    } else {
      const ub = b.bufferManager.acquireBuffer(bytes, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
      b.queue.writeBuffer(ub, 0, d.uniforms);
      b.uniformPendingDisposal.push(ub);
      uniform = { buffer: ub };
    }
  }
  const entries = (): GPUBindGroupEntry[] => {
    const list: GPUBindGroupEntry[] = buffers.map((buffer, i) => ({ binding: i, resource: { buffer } }));
    if (uniform) list.push({ binding: count, resource: uniform });
    return list;
  };
  let bindGroup: GPUBindGroup;
  if (lean) {
    const groups = lean.groups;
    let key = `${groups.idOf(entry.layout)}:`;
    for (let i = 0; i < count; i++) key += `${groups.idOf(buffers[i]!)},`;
    if (uniform) key += `|${groups.idOf(uniform.buffer)}@${uniform.offset}+${uniform.size}`;
    bindGroup = groups.get(b.device, key, entry.layout, entries);
  } else {
    bindGroup = b.device.createBindGroup({ layout: entry.layout, entries: entries() });
  }
  b.ensureCommandEncoderReady();
  const timed = b.activeTimers != null && b.supportTimestampQuery;
  if (timed) {
    b.endComputePassEncoder();
    if (b.querySet == null) b.querySet = b.device.createQuerySet({ type: 'timestamp', count: b.querySetCount });
    b.computePassEncoder = b.commandEncoder.beginComputePass({
      timestampWrites: { querySet: b.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
  } else if (!b.computePassEncoder) {
    b.computePassEncoder = b.commandEncoder.beginComputePass({});
  }
  const pass = b.computePassEncoder!;
  pass.setPipeline(entry.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  b.dispatchCountInPass++;
  if (b.activeTimers != null) {
    b.endComputePassEncoder();
    b.activeTimers.push({ name: d.key, query: b.getQueryTime() });
  } else if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/** Packs uniform fields (each 4 bytes: u32 for integers tagged 'u', f32 otherwise) into a 16-byte-multiple block. */
export function packUniforms(fields: readonly (readonly ['u' | 'f', number])[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.ceil((fields.length * 4) / 16) * 16);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  for (let i = 0; i < fields.length; i++) {
    const [type, v] = fields[i]!;
    if (type === 'u') u[i] = v;
    else f[i] = v;
  }
  return buf;
}
