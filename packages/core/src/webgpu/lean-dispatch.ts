import * as tf from '@tensorflow/tfjs-core';
import { BindGroupCache } from './bind-group-cache';
import { UniformArena } from './uniform-arena';

/** One entry of a TF.js program's uniform block. */
interface UniformEntry {
  type: string;
  data: number[];
}

interface ProgramLike {
  pipeline: GPUComputePipeline | Promise<GPUComputePipeline>;
  pixelsOpType?: number | null;
  size?: boolean;
  outputShape: number[];
  outputComponent?: number;
  dispatch: [number, number, number];
}

/** The tfjs-backend-webgpu 4.x internals the lean recording path uses. */
interface Internals {
  device: GPUDevice;
  queue: GPUQueue;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  tensorMap: { get(dataId: unknown): { resource: unknown } };
  dispatchCountInPass: number;
  activeTimers: unknown[] | null;
  tensorToBinding(t: tf.TensorInfo): GPUBindingResource;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  recordAndSubmit(program: ProgramLike, output: tf.TensorInfo, inputs: tf.TensorInfo[], uniforms?: UniformEntry[]): void;
  clipwiseArena?: UniformArena;
  clipwiseBindGroups?: BindGroupCache;
  clipwiseRecordAndSubmit?: Internals['recordAndSubmit'];
  clipwiseSubmitQueue?: () => void;
}

const layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();

/** `pipeline.getBindGroupLayout(0)`, asked of Dawn once per pipeline (each call makes a new wrapper object). */
export function bindGroupLayoutOf(pipeline: GPUComputePipeline): GPUBindGroupLayout {
  let layout = layouts.get(pipeline);
  if (!layout) layouts.set(pipeline, (layout = pipeline.getBindGroupLayout(0)));
  return layout;
}

function internals(): Internals | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const b = tf.backend() as unknown as Internals;
  const ok =
    b.device && b.queue && typeof b.recordAndSubmit === 'function' && typeof b.submitQueue === 'function' &&
    typeof b.tensorToBinding === 'function' && typeof b.ensureCommandEncoderReady === 'function' && b.commandQueueOwnedIds && b.tensorMap;
  return ok ? b : null;
}

/**
 * The uniform arena and bind group cache `dispatchDirect` shares with TF.js's launches while the lean
 * path is on, or null (off, or never installed): `useLeanDispatch(false)` then gives both back their
 * plain path, so a before/after compares whole steps.
 */
export function leanDispatchParts(backend: object): { arena: UniformArena; groups: BindGroupCache } | null {
  const b = backend as Partial<Internals>;
  return b.clipwiseRecordAndSubmit && b.clipwiseArena && b.clipwiseBindGroups ? { arena: b.clipwiseArena, groups: b.clipwiseBindGroups } : null;
}

/** The bind group cache of the active webgpu backend, when `useLeanDispatch` installed one (its hits and misses). */
export function activeBindGroupCache(): BindGroupCache | null {
  return tf.getBackend() === 'webgpu' ? ((tf.backend() as unknown as Internals).clipwiseBindGroups ?? null) : null;
}

/**
 * The one place Clipwise patches TF.js's webgpu backend's per-launch path (tfjs-backend-webgpu 4.x,
 * `WebGPUBackend.recordAndSubmit` and `submitQueue`), to cut the CPU time a kernel launch costs,
 * which bounds GPT-2's step on an H200 (~100 µs of JavaScript per launch). Nothing a kernel computes
 * changes: the same pipelines, bindings, uniform bytes and dispatch sizes, recorded in the same order.
 *
 * - Uniform blocks go to a {@link UniformArena} (one write per submit) instead of a pooled buffer
 *   and a `queue.writeBuffer` per launch; `dispatchDirect` uses the same arena.
 * - Bind groups are kept by what they bind ({@link BindGroupCache}) and reused by the launches of
 *   later steps, which bind the same pooled buffers and arena slots; `dispatchDirect` shares the cache.
 * - The bind group layout is asked of each pipeline once, not at every launch.
 * - The uniform block is packed in one pass into the arena's bytes, with TF.js's layout rules
 *   (`makeUniforms`: NaN, Infinity, each input's and the output's shape and strides, the size, the
 *   program's own fields; WGSL alignment), without the intermediate arrays.
 *
 * Launches under TF.js's kernel timer (`activeTimers`, e.g. `tf.profile` with timestamps) and pixel
 * programs take the backend's own path. Returns whether the lean path is installed (false on other
 * backends or when the backend's internals are not the ones this relies on). `useLeanDispatch(false)`
 * puts TF.js's own recording back (for before/after benchmarks).
 *
 * @example
 * await setupBackend('webgpu'); // installs it
 * useLeanDispatch(false); // TF.js's own per-launch path
 */
export function useLeanDispatch(on = true): boolean {
  const b = internals();
  if (!b) return false;
  if (!on) {
    if (b.clipwiseRecordAndSubmit) b.recordAndSubmit = b.clipwiseRecordAndSubmit;
    delete b.clipwiseRecordAndSubmit;
    // the submit hook stays: blocks already in the arena still need their flush
    return false;
  }
  if (b.clipwiseRecordAndSubmit) return true;
  if (!b.clipwiseArena) {
    const arena = new UniformArena(b.device);
    const submit = b.submitQueue;
    b.clipwiseArena = arena;
    b.clipwiseBindGroups = new BindGroupCache();
    b.clipwiseSubmitQueue = submit;
    b.submitQueue = function submitWithUniforms(this: Internals): void {
      arena.flush(this.queue);
      submit.call(this);
    };
  }
  b.clipwiseRecordAndSubmit = b.recordAndSubmit;
  b.recordAndSubmit = leanRecordAndSubmit;
  return true;
}

function leanRecordAndSubmit(this: Internals, program: ProgramLike, output: tf.TensorInfo, inputs: tf.TensorInfo[], programUniforms?: UniformEntry[]): void {
  if (program.pixelsOpType != null || this.activeTimers != null || !this.clipwiseArena) {
    this.clipwiseRecordAndSubmit!.call(this, program, output, inputs, programUniforms);
    return;
  }
  if (program.pipeline instanceof Promise) {
    throw new Error('Please call checkCompileCompletionAsync to ensure parallel compilation is done!');
  }
  const pipeline = program.pipeline;
  const outBuffer = this.tensorMap.get(output.dataId).resource;
  for (let i = -1; i < inputs.length; i++) {
    // textures (never made by our kernels) take the backend's own path
    if (!((i < 0 ? outBuffer : this.tensorMap.get(inputs[i]!.dataId).resource) instanceof GPUBuffer)) {
      this.clipwiseRecordAndSubmit!.call(this, program, output, inputs, programUniforms);
      return;
    }
  }
  const uniform = packProgramUniforms(this.clipwiseArena, program, output, inputs, programUniforms);
  const layout = bindGroupLayoutOf(pipeline);
  const cache = this.clipwiseBindGroups!;
  let key = `${cache.idOf(layout)}:${cache.idOf(outBuffer as GPUBuffer)}`;
  for (let i = 0; i < inputs.length; i++) {
    key += `,${cache.idOf(this.tensorMap.get(inputs[i]!.dataId).resource as GPUBuffer)}`;
    this.commandQueueOwnedIds.add(inputs[i]!.dataId as object);
  }
  key += `|${cache.idOf(uniform.buffer)}@${uniform.offset}+${uniform.size}`;
  this.commandQueueOwnedIds.add(output.dataId as object);
  const bindGroup = cache.get(this.device, key, layout, () => bindingEntries(this, output, inputs, uniform));
  this.ensureCommandEncoderReady();
  if (!this.computePassEncoder) this.computePassEncoder = this.commandEncoder!.beginComputePass({});
  const pass = this.computePassEncoder;
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(program.dispatch[0], program.dispatch[1], program.dispatch[2]);
  this.dispatchCountInPass++;
  if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= this.dispatchCountInPass) {
    this.endComputePassEncoder();
    this.submitQueue();
  }
}

/** The bind group entries of a TF.js launch: the output, the inputs, the uniform block. */
function bindingEntries(b: Internals, output: tf.TensorInfo, inputs: tf.TensorInfo[], uniform: GPUBufferBinding): GPUBindGroupEntry[] {
  const entries: GPUBindGroupEntry[] = new Array(inputs.length + 2);
  entries[0] = { binding: 0, resource: b.tensorToBinding(output) };
  for (let i = 0; i < inputs.length; i++) entries[i + 1] = { binding: i + 1, resource: b.tensorToBinding(inputs[i]!) };
  entries[inputs.length + 1] = { binding: inputs.length + 1, resource: uniform };
  return entries;
}

// One block's field layout, filled by `place`: offset in 4-byte words and length of each field.
const fieldWord: number[] = [];
let layoutBytes = 0;
let layoutPre = 0;
let layoutMaxAlign = 1;
let layoutFields = 0;

/** Places a field of `len` values after the previous ones, with TF.js's alignment rules (`makeUniforms`). */
function place(len: number): void {
  let align = len === 1 ? 4 : len === 2 ? 8 : len <= 6 ? 16 : -1;
  if (align < 0) throw new Error(`Unsupported ${len}D shape`);
  if (layoutPre === 5 || layoutPre === 6) align = 16;
  if (align > layoutMaxAlign) layoutMaxAlign = align;
  layoutBytes = Math.ceil(layoutBytes / align) * align;
  layoutPre = len;
  fieldWord[layoutFields++] = layoutBytes / 4;
  layoutBytes += len * 4;
}

/**
 * TF.js's uniform block of a launch (`makeUniforms` after `recordAndSubmit`'s list: NaN, Infinity,
 * shape and strides of each input and the output, the size when `program.size`, then the program's
 * own fields), written into the arena. Same bytes: every field's offset follows WGSL's alignment as
 * TF.js computes it (4 / 8 / 16 bytes for 1 / 2 / 3–6 values, 16 after a 5- or 6-value field), the
 * block is rounded to its largest alignment, padding is zero.
 */
export function packProgramUniforms(arena: Pick<UniformArena, 'reserve'>, program: ProgramLike, output: tf.TensorInfo, inputs: tf.TensorInfo[], own?: UniformEntry[]): GPUBufferBinding {
  layoutBytes = 0;
  layoutPre = 0;
  layoutMaxAlign = 1;
  layoutFields = 0;
  place(1); // NaN
  place(1); // Infinity
  const count = inputs.length + 1;
  for (let t = 0; t < count; t++) {
    const rank = (t < inputs.length ? inputs[t]! : output).shape.length;
    place(rank === 0 ? 1 : rank); // shape ([1] for a scalar)
    place(rank <= 1 ? 1 : rank - 1); // strides ([1] when there are none)
  }
  if (program.size) place(1);
  if (own) {
    for (const d of own) {
      // TF.js gives an empty field one value, in the caller's object too
      if (d.data.length === 0) d.data = [1];
      place(d.data.length);
    }
  }
  const size = Math.ceil(layoutBytes / layoutMaxAlign) * layoutMaxAlign;
  const slot = arena.reserve(size);
  const { f32, i32, u32, word: base } = slot;
  let k = 0;
  f32[base + fieldWord[k++]!] = NaN;
  f32[base + fieldWord[k++]!] = Infinity;
  for (let t = 0; t < count; t++) {
    const shape = (t < inputs.length ? inputs[t]! : output).shape;
    const rank = shape.length;
    const s = base + fieldWord[k++]!;
    if (rank === 0) i32[s] = 1;
    else for (let j = 0; j < rank; j++) i32[s + j] = shape[j]!;
    const st = base + fieldWord[k++]!;
    if (rank <= 1) {
      i32[st] = 1;
    } else {
      // util.computeStrides: strides[rank-2] = shape[rank-1], then products to the left
      let stride = shape[rank - 1]!;
      i32[st + rank - 2] = stride;
      for (let j = rank - 3; j >= 0; j--) {
        stride *= shape[j + 1]!;
        i32[st + j] = stride;
      }
    }
  }
  if (program.size) {
    const total = tf.util.sizeFromShape(program.outputShape);
    i32[base + fieldWord[k++]!] = program.outputComponent ? total / program.outputComponent : total;
  }
  if (own) {
    for (const d of own) {
      const w = base + fieldWord[k++]!;
      const view = d.type === 'int32' ? i32 : d.type === 'uint32' ? u32 : f32;
      for (let j = 0; j < d.data.length; j++) view[w + j] = d.data[j]!;
    }
  }
  return { buffer: slot.buffer, offset: slot.offset, size };
}
