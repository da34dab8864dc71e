import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec } from '@clipwise/core';
import { ClipwiseOptimError } from './errors';
import { disposeReplaced, numbersIn, selectTensors, tensorsIn, withNumbers, type GradientTransformation, type OptState, type TensorMap } from './transforms/gradient-transformation';
import { deserializeState, serializeState, splitState, type OptimizerStateParts, type SerializedState } from './state-io';
import { assertNoFrozenParams } from './frozen-check';

/** Options of `Optimizer.step`. */
export interface StepOptions {
  /** A float32 scalar on the device: the update is applied where it is 1 and skipped where it is 0. */
  readonly guard?: tf.Tensor;
}

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
  /** The state's numbers before the last step, when it had a guard (for `discardLastStep`). */
  private countsBefore: number[] | null = null;

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

  /**
   * One update from gradients by parameter name (every parameter needs one). Disposes nothing of `grads`.
   * With `guard` (a float32 scalar on the device, e.g. `releaseGuarded`'s), the update is applied only
   * where it is 1: at 0 the parameters and the state's tensors keep their values, on the device, without
   * a read. The state's counts advance either way; `discardLastStep` puts them back once the host knows
   * the guard was 0 (`releaseAndStep` does both).
   */
  step(grads: ReadonlyMap<string, tf.Tensor> | TensorMap, options: StepOptions = {}): void {
    const g: Record<string, tf.Tensor> = grads instanceof Map ? Object.fromEntries(grads) : { ...(grads as TensorMap) };
    const missing = this.params.filter((p) => !(p.name in g)).map((p) => p.name);
    if (missing.length) throw new ClipwiseOptimError(`Optimizer.step: no gradient for ${missing.join(', ')}`);
    const { guard } = options;
    if (guard && (guard.size !== 1 || guard.dtype !== 'float32')) {
      throw new ClipwiseOptimError(`Optimizer.step: guard must be a float32 scalar (1 applies the update, 0 skips it), got ${guard.dtype} [${guard.shape}]`);
    }
    const counts = guard ? numbersIn(this.state) : null;
    // in place on the device where the transformation can (and, with a guard, honours it); else the chain of ops
    const honours = !guard || this.transform.inPlace?.guards === true;
    const inPlace = honours ? this.transform.inPlace?.apply(g, this.state, this.variables, guard) : null;
    if (inPlace) {
      disposeReplaced(this.state, inPlace);
      this.state = inPlace;
    } else {
      const { updates, state } = this.transform.update(g, this.state, this.paramMap());
      const keep = guard ? tf.tidy(() => tf.greater(guard, 0)) : null;
      for (const [name, u] of Object.entries(updates)) {
        const p = this.byName.get(name);
        if (!p) continue;
        tf.tidy(() => p.variable.assign(keep ? tf.where(keep, tf.add(p.variable, u), p.variable) : tf.add(p.variable, u)));
      }
      // where the guard is 0 the new state's tensors take the old values (each new one freed once selected)
      const held = keep ? new Set(tensorsIn(this.state)) : null;
      const next = keep ? selectTensors(keep, state, this.state, (t) => !held!.has(t)) : state;
      keep?.dispose();
      disposeReplaced(this.state, next);
      disposeReplaced(updates, g);
      this.state = next;
    }
    this.countsBefore = counts;
  }

  /**
   * Undoes the host side of the last step, whose guard the device found to be 0: the state's counts
   * (Adam's bias-correction step, a schedule's position) go back to what they were before it. Its
   * tensors need nothing: the guarded update left them as they were.
   */
  discardLastStep(): void {
    if (!this.countsBefore) throw new ClipwiseOptimError('Optimizer.discardLastStep: the last step had no guard (or was discarded already)');
    this.state = withNumbers(this.state, this.countsBefore);
    this.countsBefore = null;
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
    this.countsBefore = null; // a loaded state is no step's to discard
  }

  dispose(): void {
    for (const t of tensorsIn(this.state)) t.dispose();
  }
}
