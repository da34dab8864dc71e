import { parseArgs } from 'node:util';
import { AUDIT_DEFAULTS, runAudit, type AuditOptions } from '../audit/run-audit';
import { auditToJSON, auditViolates, formatAuditTable } from '../audit/format-audit';
import { UsageError } from '../usage-error';
import { backendFlag, numberFlag } from './flags';

const positiveInt = (x: number) => Number.isInteger(x) && x > 0;

/** Parses `clipwise audit` flags into audit options. Bad input throws UsageError (exit status 2). */
function parseAuditArgs(args: string[]): AuditOptions & { json: boolean } {
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
  const backend = backendFlag(values.backend, AUDIT_DEFAULTS.backend);
  const d = AUDIT_DEFAULTS;
  const noise = values['noise-multiplier'] === undefined ? undefined : numberFlag('noise-multiplier', values['noise-multiplier'], 0, (x) => x >= 0, 'a number ≥ 0 (0 turns the noise off)');
  return {
    backend,
    ...(noise === undefined ? { epsilon: numberFlag('epsilon', values['epsilon'], 8, (x) => x > 0, 'a number > 0') } : { noiseMultiplier: noise }),
    delta: numberFlag('delta', values['delta'], d.delta, (x) => x > 0 && x < 1, 'in (0, 1)'),
    canaries: numberFlag('canaries', values['canaries'], d.canaries, (x) => positiveInt(x) && x >= 2, 'an integer ≥ 2'),
    examples: numberFlag('examples', values['examples'], d.examples, positiveInt, 'a positive integer'),
    steps: numberFlag('steps', values['steps'], d.steps, positiveInt, 'a positive integer'),
    batchSize: numberFlag('batch-size', values['batch-size'], d.batchSize, positiveInt, 'a positive integer'),
    clipNorm: numberFlag('clip-norm', values['clip-norm'], d.clipNorm, (x) => x > 0, 'a number > 0'),
    grouping: values.grouping ?? d.grouping,
    learningRate: numberFlag('lr', values['lr'], d.learningRate, (x) => x > 0, 'a number > 0'),
    seed: numberFlag('seed', values['seed'], d.seed, (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0'),
    confidence: numberFlag('confidence', values['confidence'], d.confidence, (x) => x > 0 && x < 1, 'in (0, 1), e.g. 0.95'),
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
