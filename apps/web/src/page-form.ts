import type { TrainRequest } from './protocol';

/** An element of index.html by id; a missing one is a bug in the page, said plainly. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no element #${id}`);
  return el as T;
}

function numberField(id: string, label: string): number {
  const input = byId<HTMLInputElement>(id);
  const value = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(value)) throw new Error(`${label}: '${input.value}' is not a number`);
  return value;
}

/** The form's settings (everything in a `TrainRequest` but the data and the model). */
export function readSettings(): Omit<TrainRequest, 'data' | 'model'> {
  const grouping = byId<HTMLInputElement>('grouping').value.trim();
  if (grouping === '') throw new Error("grouping: empty; e.g. 'layer-wise', 'all-layer' or 'uniform:2'");
  return {
    epsilon: numberField('epsilon', 'ε'),
    delta: numberField('delta', 'δ'),
    grouping,
    steps: numberField('steps', 'steps'),
    batchSize: numberField('batch-size', 'expected batch'),
    evalLimit: numberField('eval-limit', 'evaluation examples'),
    genTokens: numberField('gen-tokens', 'generated tokens'),
    backend: byId<HTMLSelectElement>('backend').value as TrainRequest['backend'],
  };
}
