import { Command, CommanderError, Option } from 'commander';
import { deviceErrorMessage, GpuDeviceError } from '@clipwise/core';
import { version } from '../package.json';
import { AUDIT_COMMAND } from './commands/audit';
import { BENCH_COMMAND } from './commands/bench';
import { DEMO_COMMAND } from './commands/demo';
import { NORMS_COMMAND } from './commands/norms';
import { PROFILE_COMMAND } from './commands/profile';
import { TRAIN_COMMAND } from './commands/train';
import type { CliIo, CommandSpec } from './flags/command-spec';
import { helpText, placeholder, type FlagSpec } from './flags/flag-spec';
import { flagTable } from './flags/flag-table';
import { lineProgress, withProgress } from './progress/progress';
import { CheckpointError } from './train/checkpoint-error';
import { UsageError } from './usage-error';

/** Every `clipwise` command, in the order of the program's help. */
export const COMMANDS: readonly CommandSpec[] = [DEMO_COMMAND, TRAIN_COMMAND, NORMS_COMMAND, AUDIT_COMMAND, BENCH_COMMAND, PROFILE_COMMAND];

/** The exit statuses of `clipwise` (and `clipwise-accountant`). */
const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const AFTER_HELP = `
Exit status: 0 ok, 1 the run failed (or the audit found a leak), 2 bad usage (unknown command or flag, bad value).
Groupings: all-layer, layer-wise, param-wise, uniform:K, non-uniform:PREFIX,..., per-device.
The privacy accountant has its own CLI: npx clipwise-accountant --help`;

function optionOf(spec: FlagSpec): Option {
  const flags = spec.kind === 'bool' ? `--${spec.name}` : `--${spec.name} ${placeholder(spec)}`;
  const option = new Option(flags, helpText(spec));
  if (spec.group) option.helpGroup(`${spec.group[0]!.toUpperCase()}${spec.group.slice(1)} options:`);
  return option;
}

/** The flags given on the command line, by flag name; a switch is true (`--no-dp` included). */
function givenFlags(command: Command, specs: readonly FlagSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const option = command.options.find((o) => o.long === `--${spec.name}`)!;
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== 'cli') continue;
    // the library reads `--no-X` as X = false; for us `--no-dp` is a switch of its own
    out[spec.name] = option.negate ? true : command.getOptionValue(key);
  }
  return out;
}

/** The state of one run of the program: which command failed and the exit status its run returned. */
interface RunState {
  command?: string;
  status: number;
}

/**
 * The `clipwise` program on commander: one subcommand per `CommandSpec`, each with `--help`, flags
 * and their defaults from the declaration, `--version`, and "did you mean" suggestions. Nothing is
 * printed or exits on its own: errors are thrown (see `runProgram`) and output goes to `io`.
 */
function buildProgram(io: CliIo, state: RunState): Command {
  const width = () => Math.min(process.stdout.columns ?? 100, 120);
  const program = new Command('clipwise')
    .description('differentially private fine-tuning of transformers (TensorFlow.js)')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .helpCommand('help [command]', 'print the help of a command')
    .configureOutput({
      writeOut: (s) => io.log(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      outputError: () => {}, // printed once, in our format, by main
      getOutHelpWidth: width,
      getErrHelpWidth: width,
    })
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText('after', AFTER_HELP)
    // errors thrown while a command's flags are parsed name the command
    .hook('preSubcommand', (_, sub) => {
      state.command = sub.name();
    });
  for (const spec of COMMANDS) {
    const command = program
      .command(spec.name)
      .summary(spec.summary)
      .description(spec.description ?? spec.summary)
      .helpOption('-h, --help', 'print this help');
    for (const flag of spec.flags) command.addOption(optionOf(flag));
    if (spec.examples?.length) command.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`);
    command.action(async () => {
      const values = givenFlags(command, spec.flags);
      // progress on the status line, except when stdout is one JSON object (`--json` switches)
      const progress = io.status && values['json'] !== true ? lineProgress(io.status) : undefined;
      state.status = await withProgress(progress, () => spec.run(values, io));
    });
  }
  return program;
}

/** Runs `clipwise` on `argv` (without node and the script); resolves to the exit status, never throws. */
export async function runProgram(argv: readonly string[], io: CliIo): Promise<number> {
  const state: RunState = { status: EXIT.ok };
  try {
    await buildProgram(io, state).parseAsync([...argv], { from: 'user' });
    return state.status;
  } catch (e) {
    const where = `clipwise${state.command ? ` ${state.command}` : ''}`;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
      // `clipwise` alone prints the help on stderr: a command is missing
      if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      io.err(`${where}: ${libraryMessage(e.message)}\nRun '${where} --help' for usage.`);
      return EXIT.usage;
    }
    // A damaged checkpoint is bad input too (exit 2), but the usage hint would only bury its fix.
    if (e instanceof CheckpointError) {
      io.err(`${where}: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      io.err(`${where}: ${e.message}\nRun '${where} --help' for usage.`);
      return EXIT.usage;
    }
    io.err(`${where}: ${(e as Error).message ?? String(e)}`);
    // a failure after the GPU rejected work is most likely its consequence: name the device's report
    const cause = e instanceof GpuDeviceError ? null : deviceErrorMessage('the time this failed');
    if (cause !== null) io.err(`${where}: ${cause}`);
    return EXIT.failure;
  }
}

/** The library's "error: unknown option '--epsilom'\n(Did you mean --epsilon?)" in our one-line format. */
function libraryMessage(message: string): string {
  return message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)')
    .replace(/\.$/, '');
}

/** The flag table of every command but demo (whose flags are train's), by command name, for the README. */
export function readmeFlagTables(): Record<string, string> {
  return Object.fromEntries(COMMANDS.filter((c) => c.name !== 'demo').map((c) => [c.name, flagTable(c.flags)]));
}
