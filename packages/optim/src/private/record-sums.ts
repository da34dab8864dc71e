import * as tf from '@tensorflow/tfjs-core';
import type { LayerRecord } from '@clipwise/core';
import type { NormKernel } from '@clipwise/ghost-norm';

/**
 * Adds a record's clipped sums (clip factors `c`, null for the plain Σ_i g_i) for `roles` to `sums`
 * (parameter name → running sum, kept). A role whose parameter already has a sum (a tied weight's
 * other use) goes to the kernel's `clippedSumInto` where it has one: the running sum is handed over and
 * the total comes back (in place on webgpu), where `tf.add` held the old sum, the new one and the total.
 */
export function addRecordSums(kernel: NormKernel, record: LayerRecord, c: tf.Tensor1D | null, roles: readonly string[], sums: Map<string, tf.Tensor>): void {
  const nameOf = (role: string) => record.params[role]!.name;
  const tied = kernel.clippedSumInto ? roles.filter((role) => sums.has(nameOf(role))) : [];
  if (tied.length > 0) {
    const into = Object.fromEntries(tied.map((role) => [role, sums.get(nameOf(role))!]));
    tied.forEach((role) => sums.delete(nameOf(role)));
    const totals = kernel.clippedSumInto!(record, c, tied, into);
    for (const role of tied) sums.set(nameOf(role), tf.keep(totals[role]!));
  }
  const rest = roles.filter((role) => !tied.includes(role));
  if (rest.length === 0) return;
  const made = kernel.clippedSum(record, c, rest);
  for (const role of rest) addToSum(sums, nameOf(role), made[role]!);
}

/** sums[name] += s (s consumed; kept where it becomes the sum). */
export function addToSum(sums: Map<string, tf.Tensor>, name: string, s: tf.Tensor): void {
  const prev = sums.get(name);
  if (prev) {
    sums.set(name, tf.keep(tf.add(prev, s)));
    prev.dispose();
    s.dispose();
  } else {
    sums.set(name, tf.keep(s));
  }
}
