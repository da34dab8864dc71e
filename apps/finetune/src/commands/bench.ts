import { parseArgs } from 'node:util';
import { DEFAULT_BENCH_GROUPINGS, runBench, type BenchRow } from '../profile/run-bench';
import { UsageError } from '../usage-error';
import { SHAPE_OPTIONS, shapeSettings } from './profile-args';

/**
 * Parses `clipwise bench` arguments and runs it: `--model`, `--model-config`, `--batch-size`,
 * `--seq-len`, `--reps`, `--warmup`, `--groupings a,b,...`, `--backend`, `--optimizer`,
 * `--noise-multiplier`, `--norm-mode`, `--json FILE`, `--kernels N` (top-N kernel table per
 * configuration), `--fused on|off`, `--uploads queue|staging` (before/after switches). Bad input
 * throws UsageError (exit status 2).
 */
export async function runBenchCommand(args: string[], log: (s: string) => void): Promise<BenchRow[]> {
  const { values } = parseArgs({
    args,
    options: { ...SHAPE_OPTIONS, groupings: { type: 'string' }, json: { type: 'string' }, kernels: { type: 'string' }, fused: { type: 'string' }, uploads: { type: 'string' } },
    strict: true,
  });
  const settings = shapeSettings(values, { model: 'gpt2-tiny', batchSize: 16, reps: 5 });
  const groupings = values.groupings === undefined ? DEFAULT_BENCH_GROUPINGS : splitGroupings(values.groupings);
  const kernels = values.kernels === undefined ? 0 : Number(values.kernels);
  if (!Number.isInteger(kernels) || kernels < 0) throw new UsageError(`--kernels must be an integer ≥ 0, got '${values.kernels}'`);
  if (values.fused !== undefined && !['on', 'off'].includes(values.fused)) throw new UsageError(`--fused must be on or off, got '${values.fused}'`);
  if (values.uploads !== undefined && !['queue', 'staging'].includes(values.uploads)) throw new UsageError(`--uploads must be queue or staging, got '${values.uploads}'`);
  return runBench({ ...settings, groupings, json: values.json, kernels, fused: values.fused !== 'off', uploads: values.uploads as 'queue' | 'staging' | undefined, log });
}

/**
 * Splits a `--groupings` list. A non-uniform spec has commas of its own (`non-uniform:h.4,h.8`): a
 * piece with a '.' and no ':' is a further boundary of the non-uniform spec before it. ';' also separates.
 */
export function splitGroupings(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(';')) {
    for (const piece of part.split(',').map((p) => p.trim()).filter(Boolean)) {
      const prev = out[out.length - 1];
      if (prev?.startsWith('non-uniform:') && piece.includes('.') && !piece.includes(':')) out[out.length - 1] = `${prev},${piece}`;
      else out.push(piece);
    }
  }
  return out;
}
