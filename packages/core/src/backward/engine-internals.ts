import * as tf from '@tensorflow/tfjs-core';

/** A node of TF.js's gradient tape (tfjs-core `tape.ts`), which the public API does not export. */
export interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The parts of TF.js's Engine our backward pass drives (tfjs-core 4.x `engine.ts`). */
export interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<R>(start: () => void, end: () => void, f: () => R): R;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

export function engineInternals(): EngineInternals {
  const e = tf.engine() as unknown as EngineInternals;
  if (typeof e.startTape !== 'function' || typeof e.scopedRun !== 'function' || !('state' in e)) {
    throw new Error(
      'Clipwise needs @tensorflow/tfjs-core 4.x engine internals (startTape/scopedRun); this version lacks them',
    );
  }
  return e;
}
