import { parseArgs } from 'node:util';
import type { BackendName } from '@clipwise/core';
import { AUDIT_DEFAULTS, runAudit, type AuditOptions } from '../audit/run-audit';
import { auditToJSON, auditViolates, formatAuditTable } from '../audit/format-audit';
import { UsageError } from '../usage-error';

const BACKENDS = ['auto', 'cpu', 'wasm', 'webgpu', 'tensorflow'];

function num(values: Record<string, string | boolean | undefined>, name: string, fallback: number, ok: (x: number) => boolean, range: string): number {
  const v = values[name] as string | undefined;
  if (v === undefined) return fallback;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`--${name} must be ${range}, got '${v}'`);
  return x;
}

const positiveInt = (x: number) => Number.isInteger(x) && x > 0;

/** Parses `clipwise audit` flags into audit options. Bad input throws UsageError (exit status 2). */
export function parseAuditArgs(args: string[]): AuditOptions & { json: boolean } {
  const str = { type: 'string' } as const;
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      epsilon: str, delta: str, 'noise-multiplier': str, canaries: str, examples: str, steps: str, 'batch-size': str,
      'clip-norm': str, grouping: str, lr: str, seed: str, confidence: str, backend: str, json: { type: 'boolean' },
    },
  });
  if (values.epsilon !== undefined && values['noise-multiplier'] !== undefined) {
    throw new UsageError('give --epsilon (σ calibrated to it) or --noise-multiplier, not both');
  }
  const backend = values.backend ?? AUDIT_DEFAULTS.backend;
  if (!BACKENDS.includes(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${backend}'`);
  const d = AUDIT_DEFAULTS;
  const noise = values['noise-multiplier'] === undefined ? undefined : num(values, 'noise-multiplier', 0, (x) => x >= 0, 'a number ≥ 0 (0 turns the noise off)');
  return {
    backend: backend as BackendName,
    ...(noise === undefined ? { epsilon: num(values, 'epsilon', 8, (x) => x > 0, 'a number > 0') } : { noiseMultiplier: noise }),
    delta: num(values, 'delta', d.delta, (x) => x > 0 && x < 1, 'in (0, 1)'),
    canaries: num(values, 'canaries', d.canaries, (x) => positiveInt(x) && x >= 2, 'an integer ≥ 2'),
    examples: num(values, 'examples', d.examples, positiveInt, 'a positive integer'),
    steps: num(values, 'steps', d.steps, positiveInt, 'a positive integer'),
    batchSize: num(values, 'batch-size', d.batchSize, positiveInt, 'a positive integer'),
    clipNorm: num(values, 'clip-norm', d.clipNorm, (x) => x > 0, 'a number > 0'),
    grouping: values.grouping ?? d.grouping,
    learningRate: num(values, 'lr', d.learningRate, (x) => x > 0, 'a number > 0'),
    seed: num(values, 'seed', d.seed, (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0'),
    confidence: num(values, 'confidence', d.confidence, (x) => x > 0 && x < 1, 'in (0, 1), e.g. 0.95'),
    json: values.json ?? false,
  };
}

/**
 * `clipwise audit`: runs the one-run canary audit and prints the table (or JSON with --json).
 * Returns the exit status: 0, or 1 when the audited lower bound exceeds the accountant's ε.
 */
export async function runAuditCommand(args: string[], log: (s: string) => void): Promise<number> {
  const { json, ...options } = parseAuditArgs(args);
  const report = await runAudit({ ...options, log: json ? undefined : log });
  log(json ? JSON.stringify(auditToJSON(report)) : formatAuditTable(report));
  return auditViolates(report) ? 1 : 0;
}
