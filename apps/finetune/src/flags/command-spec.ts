import type { FlagSpec } from './flag-spec';

/** Where a command writes: `log` for results (stdout), `err` for diagnostics and progress (stderr). */
export interface CliIo {
  log(line: string): void;
  err(line: string): void;
  /** One status line for the progress of long phases (null clears it); absent: no progress. */
  status?(line: string | null): void;
}

/**
 * One `clipwise` command, declared once: the program registers it with the CLI library, `--help`
 * and the README tables are made from `flags`, and `run` gets the flags' raw values by name.
 */
export interface CommandSpec {
  readonly name: string;
  /** One line, in the program's list of commands. */
  readonly summary: string;
  /** A paragraph at the top of the command's own help (defaults to the summary). */
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  /** Example command lines, shown at the end of the command's help. */
  readonly examples?: readonly string[];
  /**
   * Runs the command. `values` holds each flag given on the command line, by flag name (a string,
   * or true for a switch), unchecked: the command checks them against `flags`. Resolves to the exit
   * status (0 ok, 1 the run failed or found a problem); bad input throws a UsageError (status 2).
   */
  run(values: Record<string, unknown>, io: CliIo): Promise<number>;
}
