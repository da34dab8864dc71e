import * as tf from '@tensorflow/tfjs-core';
import { dispatchSlots, ownsStorage, registerInPlaceKernel, runInPlaceKernel, slotBranches, storageBindingsPerDispatch, withOwnStorage } from '@clipwise/core';
import type { TensorMap } from './gradient-transformation';

/**
 * A whole optimizer step (transformation and θ ← θ + u) done in place on the device: one kernel per
 * parameter (several in one dispatch, as the device's storage bindings allow) that reads p, g and the state once and writes p and the state back (llm.c's
 * `adamw_kernel`). The chain of TF.js ops it replaces costs ~14 launches and 7 new buffers per
 * parameter for AdamW (3,367 launches for GPT-2 small's 148 parameters, 273 of a 450 ms step on an
 * H200). `apply` returns the next state (the same tensors, counts advanced: the checkpoint format is
 * the chain's), or null where it cannot run (not webgpu, fused kernels off); the caller then runs the
 * chain, which stays the reference.
 */
export interface InPlaceUpdate<S = unknown> {
  /**
   * Whether `apply` honours a guard. Without it, `Optimizer.step` runs a guarded step as the chain of
   * ops (which selects the old values where the guard is 0), so an update written before guards
   * existed is never applied to a refused batch.
   */
  readonly guards?: boolean;
  /** `guard`: a float32 scalar on the device; where it is 0 the kernels leave p and the state as they are. */
  apply(grads: TensorMap, state: S, params: ReadonlyMap<string, tf.Variable>, guard?: tf.Tensor): S | null;
}

/** One parameter's buffers and constants for an in-place kernel. */
interface ParamUpdate {
  readonly p: tf.Variable;
  readonly g: tf.Tensor;
  /** State tensors the kernel also rewrites (Adam: m, v; momentum: the trace). */
  readonly state: readonly tf.Tensor[];
  /** Uniform fields after n (f32). */
  readonly constants: readonly number[];
}

const WORKGROUP = 256;
/** Grid-stride: a bounded grid serves every size (GPT-2's 38.6M-element embedding exceeds 65,535 workgroups of 256). */
const MAX_WORKGROUPS = 8192;

/**
 * The kernels' per-element bodies, each the chain's arithmetic in the chain's order with the chain's
 * f32 constants (1 − β is computed in double on the host, as the chain's scalar is), so values match
 * the plain ops. `p`, `g`, `m`, `v` are the slot's buffers and `u.x` its constants.
 */
const KERNELS = {
  // scaleByAdam → addDecayedWeights → scaleByLearningRate(−lr) → p + u
  adam: {
    state: 2,
    constants: ['b1', 'omb1', 'b2', 'omb2', 'c1', 'c2', 'eps', 'wd', 'nlr'],
    body: /* wgsl */ `
    let gi = g[i];
    let mi = m[i] * u.b1 + gi * u.omb1;
    let vi = v[i] * u.b2 + (gi * gi) * u.omb2;
    m[i] = mi;
    v[i] = vi;
    let pi = p[i];
    let step = (mi / u.c1) / (sqrt(vi / u.c2) + u.eps) + pi * u.wd;
    p[i] = pi + step * u.nlr;`,
  },
  // scaleByLearningRate(−lr) → p + u
  sgd: { state: 0, constants: ['nlr'], body: /* wgsl */ `\n    p[i] = p[i] + g[i] * u.nlr;` },
  // traceMomentum → scaleByLearningRate(−lr) → p + u (m is the trace)
  momentum: {
    state: 1,
    constants: ['decay', 'nlr'],
    body: /* wgsl */ `
    let t = m[i] * u.decay + g[i];
    m[i] = t;
    p[i] = p[i] + t * u.nlr;`,
  },
  nesterov: {
    state: 1,
    constants: ['decay', 'nlr'],
    body: /* wgsl */ `
    let gi = g[i];
    let t = m[i] * u.decay + gi;
    m[i] = t;
    p[i] = p[i] + (t * u.decay + gi) * u.nlr;`,
  },
} as const;

export type InPlaceKernel = keyof typeof KERNELS;

/**
 * Parameters per dispatch: as many as the device's storage bindings allow (p, g and the state each, and
 * one for a guard): AdamW's 4 a parameter give 2 a dispatch under WebGPU's default 8 bindings, 4 under
 * lavapipe's 16 (1 and 3 with a guard).
 */
function slotsOf(kernel: InPlaceKernel, guarded: boolean): number {
  return Math.floor((storageBindingsPerDispatch() - (guarded ? 1 : 0)) / (2 + KERNELS[kernel].state));
}

/**
 * The per-slot branches of `kernel`'s body over `count` parameters (`u` is the slot's constants); guarded,
 * inside a test of the guard (every thread reads the same value: no divergence).
 */
function kernelBody(kernel: InPlaceKernel, count: number, guarded: boolean): string {
  const body = KERNELS[kernel].body;
  const branches = `let u = slot;\n    ${slotBranches(count, (s) => body.replace(/\b([pgmv])\[/g, `$1${s}[`))}`;
  return guarded ? `if (guard[0] != 0.0) {\n    ${branches}\n    }` : branches;
}

function kernelBindings(kernel: InPlaceKernel, count: number, guarded: boolean): string {
  const names = ['p', 'g', 'm', 'v'].slice(0, 2 + KERNELS[kernel].state);
  const slots = Array.from({ length: count }, (_, s) =>
    names.map((n, j) => `@group(0) @binding(${s * names.length + j}) var<storage, ${n === 'g' ? 'read' : 'read_write'}> ${n}${s} : array<f32>;`).join('\n'),
  );
  if (guarded) slots.push(`@group(0) @binding(${count * names.length}) var<storage, read> guard : array<f32>;`);
  return slots.join('\n');
}

const KERNEL_NAME = 'ClipwiseInPlaceUpdate';

registerInPlaceKernel(KERNEL_NAME, (_, attrs) => {
  const { kernel, updates, guard } = attrs as unknown as { kernel: InPlaceKernel; updates: ParamUpdate[]; guard: tf.Tensor | null };
  const guarded = guard !== null;
  const per = slotsOf(kernel, guarded);
  for (let first = 0; first < updates.length; first += per) {
    const group = updates.slice(first, first + per);
    dispatchSlots({
      key: `clipwiseInPlace_${kernel}_${group.length}${guarded ? '_guarded' : ''}`,
      source: () => ({ bindings: kernelBindings(kernel, group.length, guarded), body: kernelBody(kernel, group.length, guarded) }),
      slotFields: KERNELS[kernel].constants.map((c) => `${c} : f32`),
      buffers: [
        ...group.flatMap((up) => [{ tensor: up.p, write: true }, { tensor: up.g }, ...up.state.map((t) => ({ tensor: t, write: true }))]),
        ...(guard ? [{ tensor: guard }] : []),
      ],
      slots: group.map((up) => ({ items: up.p.size, values: up.constants.map((c) => ['f', c] as const) })),
      workgroupSize: WORKGROUP,
      maxWorkgroups: MAX_WORKGROUPS,
    });
  }
});

/**
 * Runs `kernel` over every parameter (a dispatch per few parameters, profiled as one kernel), where
 * `guard` (a float32 scalar on the device) is not 0 when one is given.
 * Variables that share storage are first given their own; state tensors must already own theirs
 * (`withOwnStorage`).
 */
export function runInPlace(kernel: InPlaceKernel, updates: readonly ParamUpdate[], guard?: tf.Tensor): void {
  for (const up of updates) {
    if (up.g.dtype !== 'float32') throw new Error(`in-place update of ${up.p.name}: gradient must be float32, got ${up.g.dtype}`);
    if (!ownsStorage(up.p)) tf.tidy(() => up.p.assign(withOwnStorage(up.p)));
  }
  runInPlaceKernel(KERNEL_NAME, {}, { kernel, updates, guard: guard ?? null });
}

export type { ParamUpdate };
