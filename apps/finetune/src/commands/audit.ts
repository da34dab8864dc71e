import { BACKEND_NAMES, type BackendName } from '@clipwise/core';
import { AUDIT_DEFAULTS, runAudit, type AuditOptions } from '../audit/run-audit';
import { auditToJSON, auditViolates, formatAuditTable } from '../audit/format-audit';
import type { CommandSpec } from '../flags/command-spec';
import { resolveFlags, type FlagSpec } from '../flags/flag-spec';
import { UsageError } from '../usage-error';

const d = AUDIT_DEFAULTS;
const AUDIT_FLAGS: readonly FlagSpec[] = [
  { name: 'epsilon', kind: 'pos', value: 'E', description: 'the ε σ is calibrated to (RDP accountant)', defaultText: '8 unless --noise-multiplier' },
  { name: 'noise-multiplier', kind: { ok: (x) => x >= 0, expected: 'a number ≥ 0 (0 turns the noise off)' }, value: 'S', description: 'σ instead of --epsilon (0 turns the noise off)' },
  { name: 'delta', kind: 'prob', value: 'D', default: d.delta, description: 'δ of the accountant’s ε and of the audit' },
  { name: 'canaries', kind: { ok: (x) => Number.isInteger(x) && x >= 2, expected: 'an integer ≥ 2' }, value: 'K', unit: 'canaries', default: d.canaries, description: 'canaries, each trained on with probability 1/2' },
  { name: 'examples', kind: 'posint', value: 'N', unit: 'examples', default: d.examples, description: 'synthetic training examples besides the canaries' },
  { name: 'steps', kind: 'posint', value: 'N', unit: 'steps', default: d.steps, description: 'private training steps' },
  { name: 'batch-size', kind: 'posint', value: 'B', unit: 'examples', default: d.batchSize, description: 'expected batch (Poisson sampling)' },
  { name: 'clip-norm', kind: 'pos', value: 'C', default: d.clipNorm, description: 'clipping norm C' },
  { name: 'grouping', kind: 'string', value: 'G', default: d.grouping, description: 'clipping grouping' },
  { name: 'lr', kind: 'pos', value: 'LR', default: d.learningRate, description: 'SGD learning rate' },
  { name: 'seed', kind: 'int', value: 'S', default: d.seed, description: 'seed of data, coins, sampling and noise' },
  { name: 'confidence', kind: { ok: (x) => x > 0 && x < 1, expected: 'in (0, 1), e.g. 0.95' }, value: 'P', default: d.confidence, description: 'confidence of the audited lower bound' },
  { name: 'backend', kind: [...BACKEND_NAMES], default: d.backend, description: 'TensorFlow.js backend' },
  { name: 'json', kind: 'bool', description: 'print one JSON object instead of the table (and no progress)' },
];

/** `clipwise audit` flags (raw values by name) as audit options. Bad input throws UsageError (exit status 2). */
function auditOptions(values: Record<string, unknown>): AuditOptions & { json: boolean } {
  if (values['epsilon'] !== undefined && values['noise-multiplier'] !== undefined) {
    throw new UsageError('give --epsilon (σ calibrated to it) or --noise-multiplier, not both');
  }
  const f = resolveFlags(AUDIT_FLAGS, values);
  const noise = f['noise-multiplier'] as number | undefined;
  return {
    backend: f['backend'] as BackendName,
    ...(noise === undefined ? { epsilon: (f['epsilon'] as number | undefined) ?? 8 } : { noiseMultiplier: noise }),
    delta: f['delta'] as number,
    canaries: f['canaries'] as number,
    examples: f['examples'] as number,
    steps: f['steps'] as number,
    batchSize: f['batch-size'] as number,
    clipNorm: f['clip-norm'] as number,
    grouping: f['grouping'] as string,
    learningRate: f['lr'] as number,
    seed: f['seed'] as number,
    confidence: f['confidence'] as number,
    json: f['json'] === true,
  };
}

/**
 * `clipwise audit`: runs the one-run canary audit and prints the table (or JSON with --json).
 * Its status is 0, or 1 when the audited lower bound exceeds the accountant's ε.
 */
export const AUDIT_COMMAND: CommandSpec = {
  name: 'audit',
  summary: 'empirical privacy audit in one training run: audited lower bound on ε next to the accountant’s ε',
  description:
    'Empirical privacy audit in one training run (Steinke, Nasr & Jagielski 2023): K canaries, each trained on with ' +
    "probability 1/2, are guessed from the trained weights; prints the audited lower bound on ε next to the accountant's ε. " +
    'Exit status 1 if the bound is above the accountant’s ε (the implementation leaks more than its analysis allows).',
  flags: AUDIT_FLAGS,
  examples: ['clipwise audit --epsilon 8', 'clipwise audit --noise-multiplier 0', 'clipwise audit --epsilon 8 --batch-size 1500 --grouping all-layer --seed 1 --json'],
  async run(values, io) {
    const { json, ...options } = auditOptions(values);
    const report = await runAudit({ ...options, log: json ? undefined : io.log });
    io.log(json ? JSON.stringify(auditToJSON(report)) : formatAuditTable(report));
    return auditViolates(report) ? 1 : 0;
  },
};
