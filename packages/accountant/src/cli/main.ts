/**
 * `clipwise-accountant`: the accountants from the command line.
 *
 *   clipwise-accountant epsilon --sample-rate Q --noise-multiplier S --steps T --delta D [--accountant rdp|prv|gdp] [--json]
 *   clipwise-accountant sigma   --target-epsilon E --delta D --sample-rate Q --steps T [--accountant rdp|prv] [--json]
 *   clipwise-accountant steps   --target-epsilon E --delta D --sample-rate Q --noise-multiplier S [--accountant rdp|prv] [--json]
 *   clipwise-accountant ledger FILE --delta D [--json]
 *
 * `main(argv, io)` is the whole program: it returns the exit code (0 ok, 2 bad input, 1 failure)
 * and writes through `io`, so tests call it in-process. Parsing, `--help`, `--version` and "did you
 * mean" suggestions come from commander; the flags and commands are declared in cli-flags.ts.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { version } from '../../package.json';
import type { PrivacySpent } from '../accountants/accountant';
import { checkSampling } from '../accountants/accountant';
import { getAccountantFactory, listAccountants } from '../accountants/registry';
import { calibrateNoise, computeEpsilon, maxSteps } from '../calibration';
import { ClipwiseAccountantError } from '../errors';
import { accountantFromLedger } from '../ledger';
import { checkDelta, checkNoiseMultiplier, checkPositive, checkSampleRate, checkSteps } from '../validate';
import { ACCOUNTANT_COMMANDS, ACCOUNTANT_FLAGS, usageLine, type AccountantCommand, type AccountantFlag } from './cli-flags';
import { numberFlag, usage, type ParsedArgs } from './parse-args';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): string;
  /** Shows one status line of a long computation (null clears it); absent: no progress. */
  progress?(line: string | null): void;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path, 'utf8'),
  // a status line only on a terminal: redirected stderr stays free of carriage returns
  progress: process.stderr.isTTY ? (line) => process.stderr.write(`\r\x1b[K${line ?? ''}`) : undefined,
};

/** Runs `work` with a status line on `io` (none with --json), cleared afterwards. */
function withStatus<T>(args: ParsedArgs, io: CliIo, work: (show: (line: string) => void) => T): T {
  const progress = args.switches.has('--json') ? undefined : io.progress;
  try {
    return work((line) => progress?.(line));
  } finally {
    progress?.(null);
  }
}

const EXAMPLES = `
Examples:
  clipwise-accountant epsilon --sample-rate 0.004267 --noise-multiplier 1.1 --steps 14063 --delta 1e-5
  clipwise-accountant sigma --target-epsilon 3 --delta 1e-5 --sample-rate 0.004267 --steps 14063 --accountant prv --json`;

const AFTER_HELP = `
Usage of each command:
${ACCOUNTANT_COMMANDS.map((c) => `  ${usageLine(c)}`).join('\n')}

Exit status: 0 ok, 1 unexpected failure, 2 bad usage (unknown command or flag, bad or missing value).
${EXAMPLES}`;

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

/** `warning:` for a widened PRV error (named in flags), then `note:` for every other caveat. */
function caveatLines(spent: { caveats?: string[]; warning?: string }): string {
  const warning = spent.warning === undefined ? '' : `warning: ${asFlags(spent.warning)}\n`;
  return warning + (spent.caveats ?? []).filter((c) => c !== spent.warning).map((c) => `note: ${c}\n`).join('');
}

function runEpsilon(args: ParsedArgs, io: CliIo): void {
  const sampleRate = checkSampleRate(numberFlag(args, '--sample-rate', true), '--sample-rate');
  const noiseMultiplier = checkNoiseMultiplier(numberFlag(args, '--noise-multiplier', true), '--noise-multiplier');
  const steps = checkSteps(numberFlag(args, '--steps', true), '--steps');
  const delta = checkDelta(numberFlag(args, '--delta', true), '--delta');
  const accountant = accountantFlag(args, true);
  const options = accountantOptions(args, accountant);
  const spent = withStatus(args, io, (show) => {
    // one PRV composition of many steps takes up to seconds (grids of 2^19 points and more)
    if (accountant === 'prv') show(`composing the privacy loss of ${steps} steps (prv accountant) ...`);
    return computeEpsilon({ sampleRate, noiseMultiplier, steps, delta, accountant, accountantOptions: options });
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
  const result = withStatus(args, io, (show) =>
    calibrateNoise({
      targetEpsilon, delta, sampleRate, steps, accountant, accountantOptions: options, tolerance,
      onEvaluation: (e) => show(`calibrating σ (${accountant} accountant): evaluation ${e.evaluations}, σ = ${fmt(e.noiseMultiplier)} gives ε = ${fmt(e.epsilon)}`),
    }),
  );
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
  const result = withStatus(args, io, (show) =>
    maxSteps({
      targetEpsilon, delta, sampleRate, noiseMultiplier, accountant, accountantOptions: options,
      onEvaluation: (e) => show(`counting steps (${accountant} accountant): evaluation ${e.evaluations}, ${e.steps} steps give ε = ${fmt(e.epsilon)}`),
    }),
  );
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

const RUNS: Record<AccountantCommand['name'], (a: ParsedArgs, o: CliIo) => void> = {
  epsilon: runEpsilon,
  sigma: runSigma,
  steps: runSteps,
  ledger: runLedger,
};

/** A value flag refuses a second value instead of keeping the last. */
function once(flag: AccountantFlag) {
  return (value: string, previous: string | undefined) => {
    if (previous !== undefined) throw usage(`${flag.name} was given twice; give it once.`, flag.name);
    return value;
  };
}

function optionOf(flag: AccountantFlag, required: boolean): Option {
  const description = required ? `${flag.description} (required)` : flag.defaultText ? `${flag.description} (default: ${flag.defaultText})` : flag.description;
  const option = new Option(flag.value ? `${flag.name} <${flag.value}>` : flag.name, description);
  return flag.value ? option.argParser(once(flag)) : option;
}

/** The parsed command line in the shape the commands read: flag names with dashes, values unchecked. */
function parsedArgs(command: Command, spec: AccountantCommand): ParsedArgs {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (const key of [...spec.required, ...spec.optional]) {
    const flag: AccountantFlag = ACCOUNTANT_FLAGS[key];
    const value: unknown = command.getOptionValue(command.options.find((o) => o.long === flag.name)!.attributeName());
    if (value === undefined) continue;
    if (flag.value) flags.set(flag.name, value as string);
    else switches.add(flag.name);
  }
  return { command: spec.name, positionals: command.args, flags, switches };
}

/** The `clipwise-accountant` program; errors are thrown, not printed (see `main`). */
function buildProgram(io: CliIo, state: { command?: string }): Command {
  const program = new Command('clipwise-accountant')
    .description('privacy accounting for DP-SGD (Poisson-subsampled Gaussian mechanism)')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .helpCommand('help [command]', 'print the help of a command')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText('after', AFTER_HELP)
    // errors thrown while a command's flags are parsed name the command
    .hook('preSubcommand', (_, sub) => {
      state.command = sub.name();
    });
  for (const spec of ACCOUNTANT_COMMANDS) {
    const command = program
      .command(spec.name)
      .description(spec.summary)
      .usage(usageLine(spec).replace(/^clipwise-accountant \w+ /, ''))
      .helpOption('-h, --help', 'print this help');
    if (spec.argument) command.argument(`[${spec.argument.name}]`, spec.argument.description);
    for (const key of spec.required) command.addOption(optionOf(ACCOUNTANT_FLAGS[key], true));
    for (const key of spec.optional) command.addOption(optionOf(ACCOUNTANT_FLAGS[key], false));
    command.action(() => {
      RUNS[spec.name](parsedArgs(command, spec), io);
    });
  }
  return program;
}

/** Runs the CLI on `argv` (without node and the script path); returns the exit code. */
export function main(argv: readonly string[], io: CliIo = defaultIo): number {
  const state: { command?: string } = {};
  try {
    buildProgram(io, state).parse([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    const where = `clipwise-accountant${state.command ? ` ${state.command}` : ''}`;
    const hint = `Run '${where} --help' for usage.\n`;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      // no command: the help went to stderr
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
      const message = e.message.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)');
      io.stderr(`${where}: ${message}\n${hint}`);
      return 2;
    }
    if (e instanceof ClipwiseAccountantError) {
      io.stderr(`${where}: ${asFlags(e.message)}\n${hint}`);
      return 2;
    }
    io.stderr(`${where}: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
