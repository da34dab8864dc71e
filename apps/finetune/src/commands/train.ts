import { parseArgs } from 'node:util';
import { explicitSettings, trainParseOptions } from '../train/train-config';
import { runTrain, type TrainResult } from '../train/run-train';

/** Parses `clipwise train` arguments and runs it. Bad input throws UsageError (exit status 2). */
export async function runTrainCommand(args: string[], log: (s: string) => void): Promise<TrainResult> {
  const { values } = parseArgs({ args, options: trainParseOptions(), strict: true });
  return runTrain(explicitSettings(values as Record<string, unknown>), log);
}
