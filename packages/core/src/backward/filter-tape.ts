import type * as tf from '@tensorflow/tfjs-core';
import type { TapeNode } from './engine-internals';

/**
 * The tape nodes on a path from any of `xs` to `y`, in tape order, with inputs not reached from
 * `xs` pruned (as TF.js's `getFilteredNodesXToY`, which is not exported).
 */
export function filterTape(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX.has(node.inputs[name]!.id)) {
        for (const o of node.outputs) fromX.add(o.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const leadsToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      for (const name in node.inputs) leadsToY.add(node.inputs[name]!.id);
      nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) {
      if (fromX.has(node.inputs[name]!.id)) inputs[name] = node.inputs[name]!;
    }
    filtered.push({ ...node, inputs });
  }
  return filtered;
}
