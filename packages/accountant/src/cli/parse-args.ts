/**
 * The parsed `clipwise-accountant` command line as the commands read it (commander parses it, see
 * main.ts), and the checks of its values: errors name the flag.
 */
import { ClipwiseAccountantError } from '../errors';

/** Flag names keep their dashes ('--delta'); values are unchecked strings. */
export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  flags: Map<string, string>;
  switches: Set<string>;
}

export function usage(message: string, argument?: string): ClipwiseAccountantError {
  return new ClipwiseAccountantError(message, { argument });
}

/** The flag's value as a number, or an error naming the flag when it is missing or not numeric. */
export function numberFlag(args: ParsedArgs, name: string, required: true): number;
export function numberFlag(args: ParsedArgs, name: string, required: false): number | undefined;
export function numberFlag(args: ParsedArgs, name: string, required: boolean): number | undefined {
  const raw = args.flags.get(name);
  if (raw === undefined) {
    if (required) throw usage(`${name} is required; run 'clipwise-accountant --help' for an example.`, name);
    return undefined;
  }
  // Number('') is 0 and Number('0x10') is 16: accept only decimal literals.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim())) {
    throw usage(`${name} must be a number, got '${raw}'.`, name);
  }
  return Number(raw);
}
