import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AccountantLedger } from '@clipwise/accountant';
import type { PoissonSamplerState, ShuffleSamplerState } from '@clipwise/data';
import { savePretrained, type PretrainedModel } from '@clipwise/models';
import type { PrivateGradientsState } from '@clipwise/optim';
import { writeJsonAtomic } from './atomic-write';
import type { TrainConfig } from './train-config';

/** What `OUT/checkpoint/state.json` holds; written last, so it marks a complete checkpoint. */
export interface CheckpointState {
  version: 1;
  /** Steps taken (and charged to the ledger) when the weights were saved. */
  step: number;
  /** The fully resolved run config. */
  config: TrainConfig;
  /** σ used for every step (null for --no-dp). */
  noiseMultiplier: number | null;
  /** True when the run already stopped at the ε budget. */
  budgetExhausted: boolean;
}

export interface CheckpointParts {
  state: CheckpointState;
  ledger: AccountantLedger | null;
  sampler: PoissonSamplerState | ShuffleSamplerState;
  /** Noise streams and, with --thresholds adaptive, the current thresholds (so a resume is exact). */
  noise: PrivateGradientsState | null;
  optimizer: unknown;
  tokenizer: { words: readonly string[] } | null;
}

export const checkpointDir = (out: string) => path.join(out, 'checkpoint');

/**
 * Saves a checkpoint into OUT/checkpoint/, each file atomically. The ledger goes first: if the
 * process dies part-way, the ledger on disk accounts for at least the steps of any weights on disk
 * (it may over-count, never under-count). state.json goes last and is the commit marker.
 */
export async function saveCheckpoint(out: string, model: PretrainedModel, parts: CheckpointParts): Promise<void> {
  const dir = checkpointDir(out);
  if (parts.ledger) await writeJsonAtomic(path.join(dir, 'ledger.json'), parts.ledger);
  await writeJsonAtomic(path.join(dir, 'sampler.json'), parts.sampler);
  await writeJsonAtomic(path.join(dir, 'noise.json'), parts.noise);
  await writeJsonAtomic(path.join(dir, 'optimizer.json'), parts.optimizer);
  await writeJsonAtomic(path.join(dir, 'tokenizer.json'), parts.tokenizer);
  await savePretrained(model, path.join(dir, 'model'));
  await writeJsonAtomic(path.join(dir, 'state.json'), parts.state);
}

/** The checkpoint's state.json, or null when OUT has no complete checkpoint. */
export function readCheckpointState(out: string): CheckpointState | null {
  const file = path.join(checkpointDir(out), 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CheckpointState) : null;
}

export function readCheckpointParts(out: string, state: CheckpointState): CheckpointParts {
  const dir = checkpointDir(out);
  const read = (name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
  return {
    state,
    ledger: existsSync(path.join(dir, 'ledger.json')) && state.noiseMultiplier !== null ? read('ledger.json') : null,
    sampler: read('sampler.json'),
    noise: read('noise.json'),
    optimizer: read('optimizer.json'),
    tokenizer: read('tokenizer.json'),
  };
}
