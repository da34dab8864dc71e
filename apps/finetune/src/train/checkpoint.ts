import path from 'node:path';
import type { AccountantLedger } from '@clipwise/accountant';
import type { PoissonSamplerState, ShuffleSamplerState } from '@clipwise/data';
import { loraAdapters, saveAdapter, savePretrained, writeSafetensors, type PretrainedModel } from '@clipwise/models/node';
import type { OptimizerStateParts, PrivateGradientsState } from '@clipwise/optim';
import { writeJsonAtomic } from './atomic-write';
import { MANIFEST_FILE, markManifestWriting, writeManifest } from './checkpoint-manifest';
import type { SavedVocab } from './task-data';
import type { TrainConfig } from './train-config';

/** What `OUT/checkpoint/state.json` holds. */
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
  /** The accountant's ledger; null exactly for --no-dp. */
  ledger: AccountantLedger | null;
  sampler: PoissonSamplerState | ShuffleSamplerState;
  /** Noise streams and, with --thresholds adaptive, the current thresholds (so a resume is exact). */
  noise: PrivateGradientsState | null;
  /** The optimizer's state: its structure goes to optimizer.json, its tensors to optimizer.safetensors. */
  optimizer: OptimizerStateParts;
  /** A fitted vocabulary (--tokenizer word or gpt2-subset), else null. */
  tokenizer: SavedVocab | null;
}

export const checkpointDir = (out: string) => path.join(out, 'checkpoint');

/** The model's folder inside the checkpoint and the files `savePretrained` writes there. */
export const MODEL_DIR = 'model';
const MODEL_FILES = [`${MODEL_DIR}/model.safetensors`, `${MODEL_DIR}/config.json`];
/** A LoRA run's adapter (peft format) beside the frozen base model. */
export const ADAPTER_DIR = 'adapter';
const ADAPTER_FILES = [`${ADAPTER_DIR}/adapter_model.safetensors`, `${ADAPTER_DIR}/adapter_config.json`];
/**
 * The optimizer state's tensors (Adam's moments), binary: as JSON numbers a model of ~12 M
 * parameters passes V8's string limit. Checkpoints from before it hold them inline in optimizer.json.
 */
export const OPTIMIZER_TENSORS = 'optimizer.safetensors';

/**
 * The files of a checkpoint, in the order `saveCheckpoint` writes them (the manifest, last, is not
 * in the list). The ledger is first: a checkpoint cut after it is refused rather than resumed with
 * less privacy spent than the steps taken.
 */
export function checkpointFiles(privateRun: boolean, lora = false): string[] {
  return [...(privateRun ? ['ledger.json'] : []), 'sampler.json', 'noise.json', OPTIMIZER_TENSORS, 'optimizer.json', 'tokenizer.json', ...MODEL_FILES, ...(lora ? ADAPTER_FILES : []), 'state.json'];
}

/**
 * Saves a checkpoint into OUT/checkpoint/: each file atomically (temporary file, fsync, rename), in
 * the order of {@link checkpointFiles}, then `manifest.json` with every file's size and SHA-256.
 * Before the first file replaces an older checkpoint's, that one's manifest is marked as being
 * written over. So whenever the process stops, the folder holds either a complete checkpoint or one
 * that `readCheckpoint` refuses, saying it was cut.
 *
 * @param onWrite called after each write with the file's path in the checkpoint folder
 *   (`manifest.json` for the mark and the final manifest, `model/` for the model's two files, `adapter/` for a LoRA adapter's): a
 *   seam for tests, which throw from it to cut a checkpoint there.
 */
export async function saveCheckpoint(
  out: string, model: PretrainedModel, parts: CheckpointParts, onWrite: (file: string) => void | Promise<void> = () => {},
): Promise<void> {
  const dir = checkpointDir(out);
  const step = parts.state.step;
  if (await markManifestWriting(dir, step)) await onWrite(MANIFEST_FILE);
  const json = async (name: string, value: unknown) => {
    await writeJsonAtomic(path.join(dir, name), value);
    await onWrite(name);
  };
  if (parts.ledger) await json('ledger.json', parts.ledger);
  await json('sampler.json', parts.sampler);
  await json('noise.json', parts.noise);
  await writeSafetensors(path.join(dir, OPTIMIZER_TENSORS), Object.fromEntries(
    Object.entries(parts.optimizer.tensors).map(([name, t]) => [name, { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: t.shape, data: t.data }]),
  ));
  await onWrite(OPTIMIZER_TENSORS);
  await json('optimizer.json', parts.optimizer.structure);
  await json('tokenizer.json', parts.tokenizer);
  await savePretrained(model, path.join(dir, MODEL_DIR));
  await onWrite(`${MODEL_DIR}/`);
  const lora = loraAdapters(model).length > 0;
  if (lora) {
    await saveAdapter(model, path.join(dir, ADAPTER_DIR));
    await onWrite(`${ADAPTER_DIR}/`);
  }
  await json('state.json', parts.state);
  await writeManifest(dir, step, checkpointFiles(parts.ledger !== null, lora));
  await onWrite(MANIFEST_FILE);
}
