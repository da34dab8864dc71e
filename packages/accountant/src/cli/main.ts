/**
 * `clipwise-accountant`: the accountants from the command line.
 *
 *   clipwise-accountant epsilon --sample-rate Q --noise-multiplier S --steps T --delta D [--accountant rdp|prv|gdp] [--json]
 *   clipwise-accountant sigma   --target-epsilon E --delta D --sample-rate Q --steps T [--accountant rdp|prv] [--json]
 *   clipwise-accountant steps   --target-epsilon E --delta D --sample-rate Q --noise-multiplier S [--accountant rdp|prv] [--json]
 *   clipwise-accountant ledger FILE --delta D [--json]
 *
 * `main(argv, io)` is the whole program: it returns the exit code (0 ok, 2 bad input, 1 failure)
 * and writes through `io`, so tests call it in-process.
 */
import { readFileSync } from 'node:fs';
import type { PrivacySpent } from '../accountants/accountant';
import { checkSampling } from '../accountants/accountant';
import { getAccountantFactory, listAccountants } from '../accountants/registry';
import { calibrateNoise, computeEpsilon, maxSteps } from '../calibration';
import { ClipwiseAccountantError } from '../errors';
import { accountantFromLedger } from '../ledger';
import { checkDelta, checkNoiseMultiplier, checkPositive, checkSampleRate, checkSteps } from '../validate';
import { numberFlag, parseArgs, usage, type ParsedArgs } from './parse-args';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): string;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path, 'utf8'),
};

const VALUE_FLAGS = [
  '--sample-rate',
  '--noise-multiplier',
  '--steps',
  '--delta',
  '--accountant',
  '--target-epsilon',
  '--tolerance',
  '--eps-error',
  '--sampling',
];
const SWITCH_FLAGS = ['--json', '--help'];

export const HELP = `clipwise-accountant: privacy accounting for DP-SGD (Poisson-subsampled Gaussian mechanism)

Usage:
  clipwise-accountant epsilon --sample-rate Q --noise-multiplier S --steps T --delta D [--accountant rdp|prv|gdp] [--json]
      ε spent by T steps at noise multiplier S with Poisson sampling rate Q.
  clipwise-accountant sigma --target-epsilon E --delta D --sample-rate Q --steps T [--accountant rdp|prv] [--tolerance t] [--json]
      The smallest noise multiplier that keeps T steps within (E, D).
  clipwise-accountant steps --target-epsilon E --delta D --sample-rate Q --noise-multiplier S [--accountant rdp|prv] [--json]
      The most steps at noise multiplier S that stay within (E, D).
  clipwise-accountant ledger FILE --delta D [--json]
      ε of a saved accountant ledger (JSON.stringify(accountant)).

Options:
  --sample-rate Q        probability that an example is in a batch, in (0, 1] (batch size / dataset size)
  --noise-multiplier S   noise standard deviation / clipping norm, > 0
  --steps T              number of noisy steps, a whole number >= 0 (>= 1 for sigma)
  --delta D              δ of the (ε, δ) guarantee, in (0, 1), e.g. 1e-5
  --target-epsilon E     ε budget, > 0
  --accountant NAME      rdp (default; upper bound), prv (tight, with error bounds), gdp (CLT approximation)
  --eps-error x          prv only: allowed ε error (default 0.01)
  --tolerance t          sigma only: bisection tolerance on σ (default 1e-4)
  --sampling KIND        poisson (default) or shuffle (accounted as Poisson, flagged in the output)
  --json                 print one JSON object on stdout
  -h, --help             show this help

Examples:
  clipwise-accountant epsilon --sample-rate 0.004267 --noise-multiplier 1.1 --steps 14063 --delta 1e-5
  clipwise-accountant sigma --target-epsilon 3 --delta 1e-5 --sample-rate 0.004267 --steps 14063 --accountant prv --json
`;

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x);
}

function accountantFlag(args: ParsedArgs, allowApproximate: boolean): string {
  const name = args.flags.get('--accountant') ?? 'rdp';
  if (!listAccountants().includes(name)) {
    const valid = listAccountants().filter((n) => allowApproximate || getAccountantFactory(n).approximate !== true);
    throw usage(`--accountant must be one of ${valid.join(', ')}, got '${name}'.`, '--accountant');
  }
  if (!allowApproximate && getAccountantFactory(name).approximate === true) {
    throw usage(
      `--accountant ${name} is an approximation and cannot calibrate a guarantee; use --accountant rdp or --accountant prv.`,
      '--accountant',
    );
  }
  return name;
}

function accountantOptions(args: ParsedArgs, accountant: string): Record<string, unknown> {
  const options: Record<string, unknown> = { sampling: checkSampling(args.flags.get('--sampling'), '--sampling') };
  const epsError = numberFlag(args, '--eps-error', false);
  if (epsError !== undefined) {
    if (accountant !== 'prv') throw usage(`--eps-error applies to --accountant prv only, not '${accountant}'; remove it.`, '--eps-error');
    options.epsError = checkPositive(epsError, '--eps-error', 'a typical value is 0.01.');
  }
  return options;
}

function describeSpent(spent: PrivacySpent): string {
  const s = spent as PrivacySpent & Record<string, number>;
  let detail = `${spent.accountant} accountant`;
  if (typeof s.bestOrder === 'number') detail += `, best order ${s.bestOrder}`;
  if (typeof s.epsilonEstimate === 'number') {
    detail += `, upper bound; estimate ${fmt(s.epsilonEstimate)}, lower bound ${fmt(s.epsilonLower)}`;
  }
  if (typeof s.mu === 'number') detail += `, mu ${fmt(s.mu)}, approximation`;
  return `epsilon: ${fmt(spent.epsilon)} (delta ${spent.delta}, ${spent.steps} steps, ${detail})\n`;
}

function caveatLines(spent: { caveats?: string[] }): string {
  return (spent.caveats ?? []).map((c) => `note: ${c}\n`).join('');
}

function runEpsilon(args: ParsedArgs, io: CliIo): void {
  const sampleRate = checkSampleRate(numberFlag(args, '--sample-rate', true), '--sample-rate');
  const noiseMultiplier = checkNoiseMultiplier(numberFlag(args, '--noise-multiplier', true), '--noise-multiplier');
  const steps = checkSteps(numberFlag(args, '--steps', true), '--steps');
  const delta = checkDelta(numberFlag(args, '--delta', true), '--delta');
  const accountant = accountantFlag(args, true);
  const spent = computeEpsilon({
    sampleRate,
    noiseMultiplier,
    steps,
    delta,
    accountant,
    accountantOptions: accountantOptions(args, accountant),
  });
  if (args.switches.has('--json')) {
    io.stdout(`${JSON.stringify({ command: 'epsilon', sampleRate, noiseMultiplier, ...spent })}\n`);
  } else {
    io.stdout(describeSpent(spent) + caveatLines(spent));
  }
}

function runSigma(args: ParsedArgs, io: CliIo): void {
  const targetEpsilon = checkPositive(numberFlag(args, '--target-epsilon', true), '--target-epsilon', 'pass the ε budget, e.g. 3.');
  const delta = checkDelta(numberFlag(args, '--delta', true), '--delta');
  const sampleRate = checkSampleRate(numberFlag(args, '--sample-rate', true), '--sample-rate');
  const steps = checkSteps(numberFlag(args, '--steps', true), '--steps', 1);
  const accountant = accountantFlag(args, false);
  const toleranceFlag = numberFlag(args, '--tolerance', false);
  const tolerance = toleranceFlag === undefined ? undefined : checkPositive(toleranceFlag, '--tolerance', 'a typical value is 1e-4.');
  const options = accountantOptions(args, accountant);
  const result = calibrateNoise({ targetEpsilon, delta, sampleRate, steps, accountant, accountantOptions: options, tolerance });
  if (args.switches.has('--json')) {
    io.stdout(`${JSON.stringify({ command: 'sigma', targetEpsilon, delta, sampleRate, steps, sampling: options.sampling, ...result })}\n`);
  } else {
    io.stdout(
      `noise multiplier: ${result.noiseMultiplier} (epsilon ${fmt(result.epsilon)} <= ${targetEpsilon} at delta ${delta} after ` +
        `${steps} steps, ${accountant} accountant, tolerance ${result.tolerance})\n`,
    );
  }
}

function runSteps(args: ParsedArgs, io: CliIo): void {
  const targetEpsilon = checkPositive(numberFlag(args, '--target-epsilon', true), '--target-epsilon', 'pass the ε budget, e.g. 3.');
  const delta = checkDelta(numberFlag(args, '--delta', true), '--delta');
  const sampleRate = checkSampleRate(numberFlag(args, '--sample-rate', true), '--sample-rate');
  const noiseMultiplier = checkNoiseMultiplier(numberFlag(args, '--noise-multiplier', true), '--noise-multiplier');
  const accountant = accountantFlag(args, false);
  const options = accountantOptions(args, accountant);
  const result = maxSteps({ targetEpsilon, delta, sampleRate, noiseMultiplier, accountant, accountantOptions: options });
  if (args.switches.has('--json')) {
    io.stdout(`${JSON.stringify({ command: 'steps', targetEpsilon, delta, sampleRate, noiseMultiplier, ...result })}\n`);
  } else {
    io.stdout(`steps: ${result.steps} (epsilon ${fmt(result.epsilon)} <= ${targetEpsilon} at delta ${delta}, ${accountant} accountant)\n`);
  }
}

function runLedger(args: ParsedArgs, io: CliIo): void {
  const file = args.positionals[0];
  if (file === undefined) throw usage('ledger needs the path of a ledger file, e.g. clipwise-accountant ledger run/ledger.json --delta 1e-5.', 'FILE');
  const delta = checkDelta(numberFlag(args, '--delta', true), '--delta');
  let text: string;
  try {
    text = io.readFile(file);
  } catch (e) {
    throw usage(`cannot read ledger file '${file}' (${(e as Error).message}); check the path.`, 'FILE');
  }
  const spent = accountantFromLedger(text).getPrivacySpent(delta);
  if (args.switches.has('--json')) io.stdout(`${JSON.stringify({ command: 'ledger', file, ...spent })}\n`);
  else io.stdout(describeSpent(spent) + caveatLines(spent));
}

// API parameter names that appear in library messages, and the flags a CLI user typed instead.
const FLAG_NAMES: Record<string, string> = {
  targetEpsilon: '--target-epsilon',
  noiseMultiplier: '--noise-multiplier',
  sampleRate: '--sample-rate',
  epsError: '--eps-error',
};

function asFlags(message: string): string {
  return message.replace(/\b(targetEpsilon|noiseMultiplier|sampleRate|epsError)\b/g, (name) => FLAG_NAMES[name]);
}

/** Runs the CLI on `argv` (without node and the script path); returns the exit code. */
export function main(argv: readonly string[], io: CliIo = defaultIo): number {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv, VALUE_FLAGS, SWITCH_FLAGS);
    if (args.switches.has('--help') || args.command === undefined || args.command === 'help') {
      io.stdout(HELP);
      return args.command === undefined && !args.switches.has('--help') ? 2 : 0;
    }
    const commands: Record<string, (a: ParsedArgs, o: CliIo) => void> = {
      epsilon: runEpsilon,
      sigma: runSigma,
      steps: runSteps,
      ledger: runLedger,
    };
    const run = commands[args.command];
    if (run === undefined) {
      throw usage(`unknown command '${args.command}'; valid commands are epsilon, sigma, steps and ledger.`, 'command');
    }
    if (args.command !== 'ledger' && args.positionals.length > 0) {
      throw usage(`unexpected argument '${args.positionals[0]}'; options are written --name value.`, 'command');
    }
    run(args, io);
    return 0;
  } catch (e) {
    if (e instanceof ClipwiseAccountantError) {
      io.stderr(`clipwise-accountant: ${asFlags(e.message)}\n`);
      return 2;
    }
    io.stderr(`clipwise-accountant: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
