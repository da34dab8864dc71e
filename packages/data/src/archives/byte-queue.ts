/**
 * Pulls exact byte counts out of a stream of chunks of any size, for block-structured readers
 * (tar). Only the chunks not yet consumed are held.
 */
export class ByteQueue {
  private readonly chunks: Uint8Array[] = [];
  private offset = 0; // into chunks[0]
  private available = 0;
  private done = false;
  private readonly iterator: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Reads until `n` bytes are buffered; false if the stream ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.available += next.value.length;
      }
    }
    return this.available >= n;
  }

  /**
   * The next `n` bytes, or null if the stream ends before them. The result is a fresh copy unless
   * `view` is set, in which case it may share memory with the stream's chunk (valid until the next call).
   */
  async take(n: number, view = false): Promise<Uint8Array | null> {
    if (!(await this.fill(n))) return null;
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.offset >= n) {
      const part = first.subarray(this.offset, this.offset + n);
      this.consume(n);
      return view ? part : part.slice();
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const m = Math.min(n - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + m), filled);
      filled += m;
      this.consume(m);
    }
    return out;
  }

  /** Discards the next `n` bytes without copying; false if the stream ends first. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.available === 0 && !(await this.fill(1))) return false;
      const m = Math.min(left, this.available);
      let k = m;
      while (k > 0) {
        const step = Math.min(k, this.chunks[0].length - this.offset);
        this.consume(step);
        k -= step;
      }
      left -= m;
    }
    return true;
  }

  /** Stops reading the source (closes the underlying stream). */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }

  private consume(n: number): void {
    this.offset += n;
    this.available -= n;
    while (this.chunks.length > 0 && this.offset >= this.chunks[0].length) {
      this.offset -= this.chunks[0].length;
      this.chunks.shift();
    }
  }
}
