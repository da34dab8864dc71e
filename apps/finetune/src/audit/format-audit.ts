import type { AuditReport } from './run-audit';

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '∞');

/** True when the audit's lower bound exceeds the accountant's ε: the run leaked more than its analysis allows. */
export function auditViolates(r: AuditReport): boolean {
  return r.audit.epsilonLowerBound > r.accountantEpsilon;
}

/** The audit as a two-column text table, with the per-guess-count detail and a verdict. */
export function formatAuditTable(r: AuditReport): string {
  const conf = `${Math.round(r.audit.confidence * 1000) / 10}%`;
  const rows: Array<[string, string]> = [
    ['backend · time', `${r.backend} · ${r.seconds.toFixed(1)} s`],
    ['canaries (in / total)', `${r.canariesIncluded} / ${r.canaries}`],
    ['real examples', String(r.examples)],
    ['steps, E[B], q', `${r.steps}, ${r.batchSize}, ${r.sampleRate.toFixed(4)} (Poisson)`],
    ['clipping', `${r.grouping} (${r.groups} group${r.groups === 1 ? '' : 's'}), C = ${r.clipNorm}`],
    ['noise multiplier σ', r.noiseMultiplier === 0 ? '0 (noise off: not private)' : r.noiseMultiplier.toFixed(4)],
    [`accountant ε (RDP, δ = ${r.delta})`, fmt(r.accountantEpsilon)],
    [`audited ε lower bound (${conf})`, fmt(r.audit.epsilonLowerBound)],
    ['correct guesses (best)', `${r.audit.best.correct} of ${r.audit.best.guesses}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  const tries = r.audit.attempts.map((a) => `${a.correct}/${a.guesses} → ${fmt(a.epsilonLowerBound)}`).join(', ');
  lines.push(`${'guesses tried'.padEnd(width)}  ${tries} (each at ${conf} split ${r.audit.attempts.length} ways)`);
  lines.push(
    auditViolates(r)
      ? `VIOLATION: the audit proves ε ≥ ${fmt(r.audit.epsilonLowerBound)}, above the accountant's ${fmt(r.accountantEpsilon)}`
      : Number.isFinite(r.accountantEpsilon)
        ? 'consistent: the audited lower bound is below the accountant’s ε'
        : 'no noise: the accountant gives no guarantee; the bound shows what an auditor detects',
  );
  return lines.join('\n');
}

/** JSON form (ε = ∞ is written as null). */
export function auditToJSON(r: AuditReport): Record<string, unknown> {
  return {
    ...r,
    private: r.noiseMultiplier > 0,
    accountantEpsilon: Number.isFinite(r.accountantEpsilon) ? r.accountantEpsilon : null,
    epsilonLowerBound: r.audit.epsilonLowerBound,
    violation: auditViolates(r),
  };
}
