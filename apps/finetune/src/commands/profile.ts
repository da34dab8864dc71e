import { parseArgs } from 'node:util';
import { runProfile, type ProfileResult } from '../profile/run-profile';
import { SHAPE_OPTIONS, shapeSettings } from './profile-args';

/**
 * Parses `clipwise profile` arguments and runs it: the shape flags of bench plus `--grouping G`
 * (default all-layer) and `--out DIR` (profile.json, profile.html). Bad input throws UsageError.
 */
export async function runProfileCommand(args: string[], log: (s: string) => void): Promise<ProfileResult> {
  const { values } = parseArgs({ args, options: { ...SHAPE_OPTIONS, grouping: { type: 'string' }, out: { type: 'string' } }, strict: true });
  const settings = shapeSettings(values, { model: 'gpt2-tiny', batchSize: 8, reps: 3 });
  return runProfile({ ...settings, grouping: values.grouping ?? 'all-layer', out: values.out, log });
}
