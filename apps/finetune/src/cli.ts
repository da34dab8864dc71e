import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runProgram } from './program';
import { terminalStatusLine } from './progress/progress';

/**
 * Runs the `clipwise` CLI on `argv` (without node and the script path); resolves to the exit
 * status: 0 ok, 1 the run failed (or the audit found a leak), 2 bad usage. `log` gets results
 * (stdout), `err` errors (stderr), `status` the progress line of long phases (by default on stderr
 * when it is a terminal, else none). The commands and their flags are in `program.ts`.
 */
export async function main(
  argv: string[],
  log: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
  status: ((line: string | null) => void) | undefined = terminalStatusLine(),
): Promise<number> {
  return runProgram(argv, { log, err, status });
}

/** True when this file is the program (`node dist/cli.js`, or a bin link to it), not an import. */
function isEntry(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (isEntry()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
