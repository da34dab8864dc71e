/**
 * Bind groups kept by what they bind, so a launch that binds the same buffers (and the same uniform
 * arena slot) as an earlier one reuses its bind group instead of creating one: `createBindGroup` is
 * the largest native cost of a launch through Dawn (`bench/dawn-dispatch.ts`: ~20 µs of a ~22 µs
 * dispatch on lavapipe). A training step repeats the same launches on the same pooled buffers, and
 * the uniform arena puts each launch's block at the same offset of the same submit window, so from
 * the second step on most launches hit.
 *
 * Keys name buffers by a per-object id, so a destroyed buffer's groups are never hit again (a new
 * buffer gets a new id); the cache is cleared when it reaches `maxEntries`, which bounds what such
 * stale groups hold.
 */
export class BindGroupCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 16384) {}

  /** A stable id of `o` (a layout or a buffer) for keys. */
  idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /**
   * The bind group for `key` (made of the ids of what the entries bind, see `idOf`), created with
   * `device.createBindGroup({ layout, entries: entries() })` on a miss.
   */
  get(device: GPUDevice, key: string, layout: GPUBindGroupLayout, entries: () => GPUBindGroupEntry[]): GPUBindGroup {
    let group = this.groups.get(key);
    if (group) {
      this.hits++;
      return group;
    }
    this.misses++;
    if (this.groups.size >= this.maxEntries) this.groups.clear();
    group = device.createBindGroup({ layout, entries: entries() });
    this.groups.set(key, group);
    return group;
  }

  clear(): void {
    this.groups.clear();
  }

  get size(): number {
    return this.groups.size;
  }
}
