import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '@clipwise/core';
import { ClipwiseOptimError } from './errors';
import { disposeReplaced, tensorsIn, type GradientTransformation, type OptState, type TensorMap } from './transforms/gradient-transformation';
import { deserializeState, serializeState, splitState, type OptimizerStateParts, type SerializedState } from './state-io';
import { assertNoFrozenParams } from './frozen-check';

/**
 * A gradient transformation bound to parameters: holds the state, applies updates to the
 * variables (θ ← θ + u), and frees what each step replaced.
 *
 * @example
 * const opt = new Optimizer(adamw({ learningRate: 1e-3 }), params);
 * opt.step(grads); // grads: Map<name, Tensor>, e.g. from PrivateGradients.release()
 */
export class Optimizer {
  private state: OptState;
  private readonly byName: Map<string, ParamSpec>;
  private readonly variables: ReadonlyMap<string, tf.Variable>;

  constructor(
    readonly transform: GradientTransformation<any>,
    readonly params: readonly ParamSpec[],
  ) {
    assertNoFrozenParams(params, 'Optimizer');
    this.byName = new Map(params.map((p) => [p.name, p]));
    this.variables = new Map(params.map((p) => [p.name, p.variable]));
    this.state = transform.init(this.paramMap());
  }

  private paramMap(): TensorMap {
    return Object.fromEntries(this.params.map((p) => [p.name, p.variable]));
  }

  /** One update from gradients by parameter name (every parameter needs one). Disposes nothing of `grads`. */
  step(grads: ReadonlyMap<string, tf.Tensor> | TensorMap): void {
    const g: Record<string, tf.Tensor> = grads instanceof Map ? Object.fromEntries(grads) : { ...(grads as TensorMap) };
    const missing = this.params.filter((p) => !(p.name in g)).map((p) => p.name);
    if (missing.length) throw new ClipwiseOptimError(`Optimizer.step: no gradient for ${missing.join(', ')}`);
    // in place on the device where the transformation can; else the chain of ops
    const inPlace = this.transform.inPlace?.apply(g, this.state, this.variables);
    if (inPlace) {
      disposeReplaced(this.state, inPlace);
      this.state = inPlace;
      return;
    }
    const { updates, state } = this.transform.update(g, this.state, this.paramMap());
    for (const [name, u] of Object.entries(updates)) {
      const p = this.byName.get(name);
      if (!p) continue;
      tf.tidy(() => p.variable.assign(tf.add(p.variable, u)));
    }
    disposeReplaced(this.state, state);
    disposeReplaced(updates, g);
    this.state = state;
  }

  /**
   * The state as one JSON-safe value (tensors as number arrays). Fine for small models; a large
   * model's Adam moments pass V8's string limit once stringified, so checkpoints use `stateParts`.
   */
  async stateToJSON(): Promise<SerializedState> {
    return serializeState(this.state);
  }

  /**
   * The state as a JSON-safe structure and its tensors apart (typed arrays by name), for a
   * checkpoint that stores the tensors in a binary file.
   *
   * @example
   * const { structure, tensors } = await opt.stateParts(); // write structure as JSON, tensors as safetensors
   * other.loadState(structure, tensors);
   */
  async stateParts(): Promise<OptimizerStateParts> {
    return splitState(this.state);
  }

  /**
   * Restores a state saved by `stateToJSON`, or by `stateParts` with its `tensors` (shapes are checked
   * against the current state).
   */
  loadState(saved: SerializedState, tensors?: OptimizerStateParts['tensors']): void {
    const next = deserializeState(saved, this.state, 'state', tensors);
    for (const t of tensorsIn(this.state)) t.dispose();
    this.state = next;
  }

  dispose(): void {
    for (const t of tensorsIn(this.state)) t.dispose();
  }
}
