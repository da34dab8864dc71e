import { BACKEND_NAMES, type BackendName } from '@clipwise/core';
import { UsageError } from '../usage-error';

/** A numeric flag's value, `fallback` when absent; anything not a number in `range` is a UsageError naming the flag. */
export function numberFlag(name: string, v: string | undefined, fallback: number, ok: (x: number) => boolean, range: string): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`--${name} must be ${range}, got '${v}'`);
  return x;
}

/** `--backend`: one of `setupBackend`'s names, `fallback` when absent. */
export function backendFlag(v: string | undefined, fallback: BackendName = 'auto'): BackendName {
  const b = v ?? fallback;
  if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got '${b}'`);
  return b as BackendName;
}
