/**
 * The flags and commands of `clipwise-accountant`, declared once: the parser, `--help`, the usage
 * lines and the README's flag table are made from these.
 */

export interface AccountantFlag {
  /** With its dashes: '--sample-rate'. */
  readonly name: string;
  /** The value's placeholder ('Q'); none for a switch. */
  readonly value?: string;
  readonly description: string;
  /** The default, when the flag is optional and has one. */
  readonly defaultText?: string;
}

export const ACCOUNTANT_FLAGS = {
  sampleRate: { name: '--sample-rate', value: 'Q', description: 'probability that an example is in a batch, in (0, 1] (batch size / dataset size)' },
  noiseMultiplier: { name: '--noise-multiplier', value: 'S', description: 'noise standard deviation / clipping norm, > 0' },
  steps: { name: '--steps', value: 'T', description: 'number of noisy steps, a whole number >= 0 (>= 1 for sigma)' },
  delta: { name: '--delta', value: 'D', description: 'δ of the (ε, δ) guarantee, in (0, 1), e.g. 1e-5' },
  targetEpsilon: { name: '--target-epsilon', value: 'E', description: 'ε budget, > 0' },
  accountant: { name: '--accountant', value: 'NAME', description: 'rdp (upper bound), prv (tight, with error bounds), gdp (CLT approximation; not for sigma and steps)', defaultText: 'rdp' },
  epsError: { name: '--eps-error', value: 'x', description: 'prv only: allowed ε error', defaultText: '0.01' },
  tolerance: { name: '--tolerance', value: 't', description: 'bisection tolerance on σ', defaultText: '1e-4' },
  sampling: { name: '--sampling', value: 'KIND', description: 'poisson, or shuffle (accounted as Poisson, flagged in the output)', defaultText: 'poisson' },
  json: { name: '--json', description: 'print one JSON object on stdout (and no progress)' },
} as const satisfies Record<string, AccountantFlag>;

type FlagKey = keyof typeof ACCOUNTANT_FLAGS;

export interface AccountantCommand {
  readonly name: 'epsilon' | 'sigma' | 'steps' | 'ledger';
  /** A positional argument, as in the usage line: 'FILE'. */
  readonly argument?: { readonly name: string; readonly description: string };
  readonly summary: string;
  readonly required: readonly FlagKey[];
  readonly optional: readonly FlagKey[];
}

export const ACCOUNTANT_COMMANDS: readonly AccountantCommand[] = [
  {
    name: 'epsilon',
    summary: 'ε spent by T steps at noise multiplier S with Poisson sampling rate Q',
    required: ['sampleRate', 'noiseMultiplier', 'steps', 'delta'],
    optional: ['accountant', 'epsError', 'sampling', 'json'],
  },
  {
    name: 'sigma',
    summary: 'the smallest noise multiplier that keeps T steps within (E, D)',
    required: ['targetEpsilon', 'delta', 'sampleRate', 'steps'],
    optional: ['accountant', 'epsError', 'tolerance', 'sampling', 'json'],
  },
  {
    name: 'steps',
    summary: 'the most steps at noise multiplier S that stay within (E, D)',
    required: ['targetEpsilon', 'delta', 'sampleRate', 'noiseMultiplier'],
    optional: ['accountant', 'epsError', 'sampling', 'json'],
  },
  {
    name: 'ledger',
    argument: { name: 'FILE', description: 'a saved accountant ledger (JSON.stringify(accountant))' },
    summary: 'ε of a saved accountant ledger (JSON.stringify(accountant))',
    required: ['delta'],
    optional: ['json'],
  },
];

/** `--sample-rate Q`, or `--json`. */
export function flagTerm(flag: AccountantFlag): string {
  return flag.value ? `${flag.name} ${flag.value}` : flag.name;
}

/** A command's usage line: `clipwise-accountant epsilon --sample-rate Q ... [--accountant NAME] [--json]`. */
export function usageLine(command: AccountantCommand): string {
  const required = command.required.map((k) => flagTerm(ACCOUNTANT_FLAGS[k]));
  const optional = command.optional.map((k) => `[${flagTerm(ACCOUNTANT_FLAGS[k])}]`);
  return ['clipwise-accountant', command.name, ...(command.argument ? [command.argument.name] : []), ...required, ...optional].join(' ');
}

/** The README's table: every flag, what it means, its default and which commands take it. */
export function accountantFlagTable(): string {
  const rows = Object.entries(ACCOUNTANT_FLAGS).map(([key, flag]) => {
    const uses = ACCOUNTANT_COMMANDS.filter((c) => c.required.includes(key as FlagKey) || c.optional.includes(key as FlagKey)).map(
      (c) => (c.required.includes(key as FlagKey) ? `${c.name} (required)` : c.name),
    );
    const f = flag as AccountantFlag;
    return `| \`${flagTerm(f)}\` | ${f.description.replace(/\|/g, '\\|')} | ${f.defaultText ?? ''} | ${uses.join(', ')} |`;
  });
  return ['| flag | meaning | default | commands |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
