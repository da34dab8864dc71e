/**
 * Uniform blocks of the dispatches recorded between two submits, packed into shared buffers (one
 * slot per dispatch, at the device's uniform offset alignment) and written with one
 * `queue.writeBuffer` per buffer just before the submit, instead of a pooled buffer and a write per
 * dispatch.
 *
 * Safe to reuse the same buffers in every submit window: WebGPU runs queue operations in order, so a
 * write issued after `submit(A)` lands after A's commands have read the previous contents (the same
 * guarantee TF.js's own uniform pool relies on when it recycles uniform buffers after each submit).
 */
/** A block reserved in the arena: bind `buffer` at `offset`; fill the CPU views from `at` (bytes) / `word` (4-byte words). */
export interface UniformSlot {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly bytes: Uint8Array;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly at: number;
  readonly word: number;
}

interface Chunk {
  buffer: GPUBuffer;
  bytes: Uint8Array<ArrayBuffer>;
  f32: Float32Array;
  i32: Int32Array;
  u32: Uint32Array;
  used: number;
}

export class UniformArena {
  private readonly chunks: Chunk[] = [];
  private current = 0;
  private readonly align: number;

  /** Bytes per shared buffer: the default maxUniformBufferBindingSize, so any one block fits. */
  static readonly CHUNK_BYTES = 65536;

  constructor(private readonly device: GPUDevice) {
    this.align = device.limits.minUniformBufferOffsetAlignment || 256;
  }

  /**
   * Reserves `size` bytes (zeroed) for one dispatch's uniform block. Returns the buffer and offset
   * to bind, and the CPU bytes to fill (the block starts at `at`); they reach the GPU at `flush`.
   */
  reserve(size: number): UniformSlot {
    if (size > UniformArena.CHUNK_BYTES) throw new RangeError(`uniform block of ${size} bytes exceeds ${UniformArena.CHUNK_BYTES}`);
    let chunk = this.chunks[this.current];
    if (chunk && chunk.used + size > UniformArena.CHUNK_BYTES) chunk = this.chunks[++this.current];
    if (!chunk) {
      const bytes = new ArrayBuffer(UniformArena.CHUNK_BYTES);
      chunk = {
        buffer: this.device.createBuffer({ size: UniformArena.CHUNK_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'clipwise-uniform-arena' }),
        bytes: new Uint8Array(bytes),
        f32: new Float32Array(bytes),
        i32: new Int32Array(bytes),
        u32: new Uint32Array(bytes),
        used: 0,
      };
      this.chunks[this.current] = chunk;
    }
    const offset = chunk.used;
    chunk.bytes.fill(0, offset, offset + size);
    chunk.used = Math.min(UniformArena.CHUNK_BYTES, Math.ceil((offset + size) / this.align) * this.align);
    return { buffer: chunk.buffer, offset, bytes: chunk.bytes, f32: chunk.f32, i32: chunk.i32, u32: chunk.u32, at: offset, word: offset / 4 };
  }

  /** Writes the blocks reserved since the last flush; call right before the submit that uses them. */
  flush(queue: GPUQueue): void {
    for (let i = 0; i <= this.current && i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (chunk.used > 0) queue.writeBuffer(chunk.buffer, 0, chunk.bytes, 0, chunk.used);
      chunk.used = 0;
    }
    this.current = 0;
  }

  /** Whether blocks wait for a flush. */
  get pending(): boolean {
    return (this.chunks[0]?.used ?? 0) > 0;
  }

  destroy(): void {
    for (const c of this.chunks) c.buffer.destroy();
    this.chunks.length = 0;
    this.current = 0;
  }
}
