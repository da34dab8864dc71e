/**
 * A small, strict parser for `clipwise-accountant` arguments: `command [positional] --flag value
 * --flag=value --switch`. Unknown flags and missing values are errors that name the flag.
 */
import { ClipwiseAccountantError } from '../errors';

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  flags: Map<string, string>;
  switches: Set<string>;
}

export function parseArgs(argv: readonly string[], valueFlags: readonly string[], switchFlags: readonly string[]): ParsedArgs {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      switches.add('--help');
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (switchFlags.includes(name)) {
      if (eq >= 0) throw usage(`${name} takes no value, got '${arg}'; write just ${name}.`, name);
      switches.add(name);
      continue;
    }
    if (!valueFlags.includes(name)) {
      throw usage(`unknown option ${name}; run 'clipwise-accountant --help' for the list of options.`, name);
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw usage(`${name} needs a value, e.g. ${name} 0.01.`, name);
    }
    if (flags.has(name)) throw usage(`${name} was given twice; give it once.`, name);
    flags.set(name, value);
  }
  const command = positionals.shift();
  return { command, positionals, flags, switches };
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
