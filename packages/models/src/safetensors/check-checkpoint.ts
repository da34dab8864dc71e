import { ClipwiseModelError } from '../clipwise-model-error.js';
import { formatShape } from './layout.js';

/** A tensor the model expects to load. */
export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** What {@link compareCheckpoint} found. All lists are sorted by name. */
export interface CheckpointComparison {
  /** Expected by the model, absent from the checkpoint. */
  readonly missing: ExpectedTensor[];
  /** In the checkpoint, not expected by the model (and not ignored). */
  readonly unexpected: ExpectedTensor[];
  /** Present in both with different shapes. */
  readonly misShaped: Array<{ readonly name: string; readonly expected: readonly number[]; readonly found: readonly number[] }>;
}

/** The parts of a header the comparison needs; a {@link SafetensorsHeader} qualifies. */
export interface CheckpointTensorList {
  readonly source?: string;
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>;
}

export interface CheckCheckpointOptions {
  /**
   * Checkpoint tensors the model deliberately does not load (e.g. GPT-2's `h.*.attn.bias` causal-mask
   * buffers); they are not reported as unexpected.
   */
  readonly ignoreUnexpected?: (name: string) => boolean;
}

/** Thrown by {@link checkCheckpointAgainst}; carries the full comparison for programmatic use. */
export class CheckpointMismatchError extends ClipwiseModelError {
  override readonly name = 'CheckpointMismatchError';

  constructor(
    message: string,
    readonly comparison: CheckpointComparison,
  ) {
    super(message);
  }
}

/** Compares a checkpoint's tensors with the model's expectations, without throwing. */
export function compareCheckpoint(
  expected: ReadonlyArray<ExpectedTensor>,
  header: CheckpointTensorList,
  options: CheckCheckpointOptions = {},
): CheckpointComparison {
  const wanted = new Map(expected.map((t) => [t.name, t]));
  const missing: ExpectedTensor[] = [];
  const misShaped: CheckpointComparison['misShaped'] = [];
  for (const t of wanted.values()) {
    const found = header.tensors.get(t.name);
    if (!found) missing.push({ name: t.name, shape: [...t.shape] });
    else if (!sameShape(found.shape, t.shape)) misShaped.push({ name: t.name, expected: [...t.shape], found: [...found.shape] });
  }
  const unexpected: ExpectedTensor[] = [];
  for (const [name, info] of header.tensors) {
    if (!wanted.has(name) && !options.ignoreUnexpected?.(name)) unexpected.push({ name, shape: [...info.shape] });
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { missing: missing.sort(byName), unexpected: unexpected.sort(byName), misShaped: misShaped.sort(byName) };
}

/**
 * Refuses a checkpoint that does not hold exactly the tensors a model expects: throws one
 * {@link CheckpointMismatchError} listing every missing, unexpected and mis-shaped tensor by name
 * (at most 10 of each in the message; all of them in `error.comparison`).
 *
 * @example
 * ```ts
 * import { openSafetensors, checkCheckpointAgainst } from '@clipwise/models/node';
 * const file = await openSafetensors('gpt2/model.safetensors');
 * checkCheckpointAgainst([{ name: 'wte.weight', shape: [50257, 768] }], file.header, {
 *   ignoreUnexpected: (name) => name.endsWith('.attn.bias'),
 * });
 * ```
 */
export function checkCheckpointAgainst(
  expected: ReadonlyArray<ExpectedTensor>,
  header: CheckpointTensorList,
  options: CheckCheckpointOptions = {},
): void {
  const comparison = compareCheckpoint(expected, header, options);
  const { missing, unexpected, misShaped } = comparison;
  if (missing.length + unexpected.length + misShaped.length === 0) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${list(missing.map((t) => `'${t.name}' ${formatShape(t.shape)}`))}`);
  if (unexpected.length) parts.push(`unexpected ${list(unexpected.map((t) => `'${t.name}' ${formatShape(t.shape)}`))}`);
  if (misShaped.length) {
    parts.push(
      `mis-shaped ${list(misShaped.map((t) => `'${t.name}' (checkpoint ${formatShape(t.found)}, model expects ${formatShape(t.expected)})`))}`,
    );
  }
  throw new CheckpointMismatchError(
    `checkpoint${header.source ? ` ${header.source}` : ''} does not match the model: ${parts.join('; ')}. Fix: load a checkpoint ` +
      'saved from a model with the same configuration (layers, hidden size, vocabulary), or change the model ' +
      'configuration to match the checkpoint.',
    comparison,
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function list(items: string[]): string {
  const shown = items.slice(0, 10).join(', ');
  return `${items.length}: ${shown}${items.length > 10 ? `, ... and ${items.length - 10} more` : ''}`;
}
