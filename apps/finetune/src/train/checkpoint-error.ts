import { UsageError } from '../usage-error';

/**
 * A run folder that must not be resumed: its checkpoint is incomplete, damaged, cut while being
 * written, or not consistent with itself or with the run's config, or its logs cannot be read. Its
 * message names the file, what is wrong and the fix. Bad input like any `UsageError` (exit status
 * 2), but the CLI prints no usage text for it.
 */
export class CheckpointError extends UsageError {
  override name = 'CheckpointError';
}

/** The fix for a checkpoint file that cannot be trusted: restore it, or start over. */
function checkpointFix(dir: string): string {
  return `restore the file from a backup of the run folder, or delete ${dir} to start over (or train into another --out)`;
}

/** A `CheckpointError` "FILE: PROBLEM. Fix: ..." for a file of the checkpoint in `dir`. */
export function damaged(dir: string, file: string, problem: string, fix = checkpointFix(dir)): CheckpointError {
  return new CheckpointError(`${file}: ${problem}; the run cannot resume from it. Fix: ${fix}`);
}
