import type { CommandSpec } from '../flags/command-spec';
import { UsageError } from '../usage-error';
import { resolveFlags, type FlagSpec } from '../flags/flag-spec';
import { runProfile, type ProfileResult } from '../profile/run-profile';
import { shapeFlags, shapeSettings } from './profile-args';

const PROFILE_FLAGS: readonly FlagSpec[] = [
  ...shapeFlags({ batchSize: 8, reps: 3 }),
  { name: 'grouping', kind: 'string', value: 'G', default: 'all-layer', description: 'the grouping profiled' },
  { name: 'out', kind: 'string', value: 'DIR', description: 'write DIR/profile.json (tables and both timelines) and DIR/profile.html' },
];

/** `clipwise profile`: the shape flags of bench plus `--grouping G` and `--out DIR`. */
export const PROFILE_COMMAND: CommandSpec = {
  name: 'profile',
  summary: "one grouping in detail: per-layer norm mode and cost, per-phase time and peak, DIR/profile.html",
  description:
    "Per layer: the mixed rule's norm mode and the kernels' predicted flops/bytes; per phase (forward, backward, norms, " +
    'clipped sums, noise, update): measured time and peak next to the prediction; --out DIR/profile.html plots memory over the step.',
  flags: PROFILE_FLAGS,
  examples: ['clipwise profile --backend wasm --model gpt2-tiny --batch-size 16 --seq-len 64 --grouping layer-wise --out profile'],
  async run(values, io) {
    await runProfileCommand(values, io.log);
    return 0;
  },
};

/** Checks `clipwise profile`'s flags (raw values by name) and runs it. Bad input throws UsageError. */
async function runProfileCommand(values: Record<string, unknown>, log: (s: string) => void): Promise<ProfileResult> {
  const flags = resolveFlags(PROFILE_FLAGS, values);
  if (flags['grouping'] === 'inference') throw new UsageError("--grouping inference: profile takes a training step's grouping; time the forward pass alone with clipwise bench --groupings inference");
  return runProfile({ ...shapeSettings(flags), grouping: flags['grouping'] as string, out: flags['out'] as string | undefined, log });
}
