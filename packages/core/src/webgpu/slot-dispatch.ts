import { dispatchDirect, packUniforms, type DirectBinding } from './direct-dispatch';

/** A uniform value: u32 ('u') or f32 ('f'). */
export type UniformField = readonly ['u' | 'f', number];

/** One slot of a {@link dispatchSlots} call: a range of `items` work items and its uniform values. */
export interface Slot {
  /** Work items of this slot (elements, or blocks of them): its range in the concatenated loop. */
  readonly items: number;
  /** Values of the slot's fields after `n` and `start`, in `slotFields` order. */
  readonly values: readonly UniformField[];
}

/** The WGSL of a {@link SlotDispatch} besides its uniform structs. */
export interface SlotSource {
  /** Declarations of the storage bindings 0..k−1 (the uniform block is bound after them). */
  readonly bindings: string;
  /** WGSL placed before the entry point (helper functions). */
  readonly prelude?: string;
  /**
   * The loop body. In scope: `s` (the slot's index, u32), `slot` (its uniform struct: `slot.n` items,
   * `slot.start`, its fields), `i` (the item's index within the slot), `uni` (the uniform block, for
   * shared fields). {@link slotBranches} writes the per-slot branches a body needs to reach its bindings.
   */
  readonly body: string;
}

/**
 * One dispatch over several tensors bound separately (e.g. every parameter of an optimizer step, 8
 * bindings at a time): a grid-stride loop over the slots' concatenated item ranges, so a bounded grid
 * serves any total size, each item finding its slot by the slots' start offsets.
 */
export interface SlotDispatch {
  /** Pipeline cache key (and the name in kernel profiles); must identify the WGSL for this slot count. */
  readonly key: string;
  /** The WGSL pieces, made only when `key` is new (a step dispatches the same keys every time). */
  readonly source: () => SlotSource;
  /** WGSL struct fields of a slot after `n : u32, start : u32`, e.g. `['lr : f32']`. */
  readonly slotFields: readonly string[];
  /** Up to three uniform fields after `total : u32`, shared by all slots (e.g. a key tag), and their values. */
  readonly sharedFields?: readonly string[];
  readonly sharedValues?: readonly UniformField[];
  readonly buffers: readonly DirectBinding[];
  readonly slots: readonly Slot[];
  readonly workgroupSize?: number;
  /** Grid bound: at most this many workgroups; each thread then strides over several items. */
  readonly maxWorkgroups?: number;
}

/** The slot struct's fields, `n` and `start` first, padded to 16 bytes (a uniform array's stride). */
function paddedSlotFields(fields: readonly string[]): string[] {
  const all = ['n : u32', 'start : u32', ...fields];
  while (all.length % 4) all.push(`pad${all.length} : u32`);
  return all;
}

/**
 * `switch s { case 0u: { … } case 1u: { … } … }`: the branch for each slot of a body over `count`
 * bindings (a switch, not an if-chain: up to 32 slots, every work item takes one).
 */
export function slotBranches(count: number, branch: (slot: number) => string): string {
  const cases = Array.from({ length: count }, (_, k) => `case ${k}u: {${branch(k)}\n    }`);
  return `switch s {\n    ${cases.join('\n    ')}\n    default: {}\n    }`;
}

/** The WGSL module of a {@link SlotDispatch} with `count` slots. */
export function slotWgsl(d: Pick<SlotDispatch, 'source' | 'slotFields' | 'sharedFields' | 'workgroupSize'>, count: number): string {
  const { bindings, prelude, body } = d.source();
  const shared = [...(d.sharedFields ?? [])];
  if (shared.length > 3) throw new RangeError(`slot dispatch: at most 3 shared uniform fields, got ${shared.length}`);
  while (shared.length < 3) shared.push(`spad${shared.length} : u32`);
  const wg = d.workgroupSize ?? 256;
  return /* wgsl */ `
struct Slot { ${paddedSlotFields(d.slotFields).join(', ')} };
struct U { slots : array<Slot, ${count}>, total : u32, ${shared.join(', ')} };
${bindings}
@group(0) @binding(${countBindings(bindings)}) var<uniform> uni : U;
${prelude ?? ''}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  for (var f = gid.x; f < uni.total; f = f + nwg.x * ${wg}u) {
    // the last slot whose range starts at or before f (starts never decrease): a binary search
    var s = 0u;
    var hi = ${count - 1}u;
    while (s < hi) {
      let mid = (s + hi + 1u) / 2u;
      if (f >= uni.slots[mid].start) { s = mid; } else { hi = mid - 1u; }
    }
    let slot = uni.slots[s];
    let i = f - slot.start;
    ${body}
  }
}`;
}

function countBindings(wgsl: string): number {
  return (wgsl.match(/@binding\(/g) ?? []).length;
}

/** Records one {@link SlotDispatch} into the webgpu backend's command stream (see `dispatchDirect`). */
export function dispatchSlots(d: SlotDispatch): void {
  const width = paddedSlotFields(d.slotFields).length;
  const fields: UniformField[] = [];
  let start = 0;
  for (const slot of d.slots) {
    if (slot.values.length !== d.slotFields.length) {
      throw new RangeError(`slot dispatch ${d.key}: ${slot.values.length} values for ${d.slotFields.length} slot fields`);
    }
    const row: UniformField[] = [['u', slot.items], ['u', start], ...slot.values];
    while (row.length < width) row.push(['u', 0]);
    fields.push(...row);
    start += slot.items;
  }
  const shared: UniformField[] = [['u', start], ...(d.sharedValues ?? [])];
  while (shared.length < 4) shared.push(['u', 0]);
  fields.push(...shared);
  const wg = d.workgroupSize ?? 256;
  dispatchDirect({
    key: d.key,
    code: () => slotWgsl(d, d.slots.length),
    buffers: d.buffers,
    uniforms: packUniforms(fields),
    workgroups: [Math.max(1, Math.min(Math.ceil(start / wg), d.maxWorkgroups ?? 8192)), 1, 1],
  });
}
