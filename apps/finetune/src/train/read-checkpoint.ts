import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ClipwiseAccountantError, parseLedger, type AccountantLedger } from '@clipwise/accountant';
import { ClipwiseError } from '@clipwise/core';
import { ClipwiseDataError, PoissonSampler, ShuffleSampler, type PoissonSamplerState, type ShuffleSamplerState } from '@clipwise/data';
import { ClipwiseGroupingError } from '@clipwise/grouping';
import { ClipwiseModelError } from '@clipwise/models';
import { openSafetensors } from '@clipwise/models/node';
import type { OptimizerStateParts, PrivateGradientsState, StateTensor } from '@clipwise/optim';
import { OPTIMIZER_TENSORS, checkpointDir, checkpointFiles, type CheckpointParts, type CheckpointState } from './checkpoint';
import { CheckpointError, damaged } from './checkpoint-error';
import type { SavedVocab } from './task-data';
import { MANIFEST_FILE, readCheckpointJson, readManifest, verifyManifest, type CheckpointManifest } from './checkpoint-manifest';
import { noiseSeed, samplerSeed } from './seed-streams';

/** What OUT/checkpoint holds: nothing, a complete checkpoint (its manifest's step), or files without a manifest. */
export type FoundCheckpoint = { kind: 'none' } | { kind: 'complete'; step: number } | { kind: 'incomplete' };

/** What OUT/checkpoint holds; a manifest that cannot be read is a `CheckpointError`. */
export function findCheckpoint(out: string): FoundCheckpoint {
  const dir = checkpointDir(out);
  // Dot files are writeFileAtomic's temporaries: a write that never finished, not part of a checkpoint.
  if (!existsSync(dir) || readdirSync(dir).every((name) => name.startsWith('.'))) return { kind: 'none' };
  const manifest = readManifest(dir);
  return manifest ? { kind: 'complete', step: manifest.step } : { kind: 'incomplete' };
}

/** The message for a checkpoint folder without a manifest. */
export function incompleteCheckpoint(out: string): CheckpointError {
  const dir = checkpointDir(out);
  const old = existsSync(path.join(dir, 'state.json'));
  return new CheckpointError(
    `${dir} holds an incomplete checkpoint: it has no ${MANIFEST_FILE}, the file a checkpoint writes last (it was deleted, or the run stopped ` +
      `while writing its first checkpoint${old ? ', or a clipwise from before manifests wrote it' : ''}), so its files cannot be trusted to belong together. ` +
      `Fix: delete ${dir} to start over (or train into another --out)`,
  );
}

/**
 * Reads the checkpoint in OUT/checkpoint for a resume, trusting nothing: every file the manifest
 * lists must be there with its recorded size and SHA-256, every file a checkpoint needs must be
 * listed, and the parts must agree with each other: the ledger, sampler, noise streams and
 * optimizer are all at the checkpoint's step, and the ledger charged every step the (σ, q) the run
 * uses. What needs the data or the model is checked by {@link checkResumedRun}. Throws a
 * `CheckpointError` naming the file, the problem and the fix.
 */
export async function readCheckpoint(out: string): Promise<CheckpointParts> {
  const dir = checkpointDir(out);
  const manifest = readManifest(dir);
  if (!manifest) throw incompleteCheckpoint(out);
  await verifyManifest(dir, manifest);
  const file = (name: string) => path.join(dir, name);
  const listed = new Set(manifest.files.map((f) => f.path));
  const unlisted = (name: string) =>
    damaged(dir, file(MANIFEST_FILE), `it does not list ${name}, which the checkpoint needs (was the manifest edited?)`);
  if (!listed.has('state.json')) throw unlisted('state.json');
  const state = checkState(readCheckpointJson(dir, 'state.json'), file('state.json'), manifest, dir);
  for (const name of checkpointFiles(state.noiseMultiplier !== null, state.config['lora-rank'] !== undefined)) {
    if (!listed.has(name) && name !== OPTIMIZER_TENSORS) throw unlisted(name);
  }
  const optimizer = readCheckpointJson(dir, 'optimizer.json');
  // a checkpoint from before optimizer.safetensors holds the optimizer's tensors inline in optimizer.json
  const inlineOptimizer = !listed.has(OPTIMIZER_TENSORS);
  if (inlineOptimizer && refersToTensors(optimizer)) throw unlisted(OPTIMIZER_TENSORS);
  const sampler = checkSampler(readCheckpointJson(dir, 'sampler.json'), file('sampler.json'), state, dir);
  return {
    state,
    sampler: sampler.state,
    ledger: state.noiseMultiplier === null ? null : checkLedger(readCheckpointJson(dir, 'ledger.json'), file('ledger.json'), state, sampler.sampleRate, dir),
    noise: checkNoise(readCheckpointJson(dir, 'noise.json'), file('noise.json'), state, dir),
    optimizer: {
      structure: checkOptimizer(optimizer, file('optimizer.json'), state, dir),
      tensors: inlineOptimizer ? {} : await readOptimizerTensors(file(OPTIMIZER_TENSORS), dir),
    },
    tokenizer: checkTokenizer(readCheckpointJson(dir, 'tokenizer.json'), file('tokenizer.json'), state, dir),
  };
}

const isWhole = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function checkState(raw: unknown, file: string, manifest: CheckpointManifest, dir: string): CheckpointState {
  const bad = (what: string) => damaged(dir, file, what);
  if (!isObject(raw) || raw.version !== 1) throw bad('not a version-1 checkpoint state {"version": 1, "step", "config", "noiseMultiplier", "budgetExhausted"}');
  if (raw.step !== manifest.step) throw bad(`it is at step ${JSON.stringify(raw.step)}, but ${path.join(dir, MANIFEST_FILE)} at step ${manifest.step}`);
  const config = raw.config;
  if (!isObject(config) || typeof config['no-dp'] !== 'boolean') throw bad('"config" is not a resolved run config');
  const sigma = raw.noiseMultiplier;
  if (config['no-dp'] ? sigma !== null : !(typeof sigma === 'number' && sigma > 0 && Number.isFinite(sigma))) {
    throw bad(`"noiseMultiplier" is ${JSON.stringify(sigma)}, but the run is ${config['no-dp'] ? 'not private (no σ)' : 'private (σ > 0)'}`);
  }
  if (typeof raw.budgetExhausted !== 'boolean') throw bad(`"budgetExhausted" is ${JSON.stringify(raw.budgetExhausted)}, not true or false`);
  return raw as unknown as CheckpointState;
}

function checkSampler(raw: unknown, file: string, state: CheckpointState, dir: string): { state: PoissonSamplerState | ShuffleSamplerState; sampleRate: number } {
  const { config, step } = state;
  const bad = (what: string) => damaged(dir, file, what);
  if (!isObject(raw) || raw.sampling !== config.sampling) throw bad(`it is not the state of a ${config.sampling} sampler (the run's --sampling)`);
  let sampler: PoissonSampler | ShuffleSampler;
  try {
    sampler = raw.sampling === 'poisson' ? PoissonSampler.fromJSON(raw as unknown as PoissonSamplerState) : ShuffleSampler.fromJSON(raw as unknown as ShuffleSamplerState);
  } catch (e) {
    throw bad(`it is not a sampler state (${(e as Error).message})`);
  }
  if (sampler.step !== step) throw bad(`it is at step ${sampler.step}, but the checkpoint is at step ${step} (state.json)`);
  if (sampler.seed !== samplerSeed(config.seed)) throw bad(`its seed ${sampler.seed} is not the one of the run's --seed ${config.seed}`);
  if (sampler.sampleRate !== config['batch-size'] / sampler.datasetSize) {
    throw bad(`it samples at q = ${sampler.sampleRate}, not at the run's --batch-size ${config['batch-size']} / ${sampler.datasetSize} examples`);
  }
  return { state: raw as unknown as PoissonSamplerState | ShuffleSamplerState, sampleRate: sampler.sampleRate };
}

function checkLedger(raw: unknown, file: string, state: CheckpointState, sampleRate: number, dir: string): AccountantLedger {
  const { config, step, noiseMultiplier } = state;
  const bad = (what: string) => damaged(dir, file, what);
  let ledger: AccountantLedger;
  try {
    ledger = parseLedger(raw);
  } catch (e) {
    if (e instanceof ClipwiseAccountantError) throw bad(`not a valid ledger: ${withoutFix(e.message)}`);
    throw e;
  }
  if (ledger.accountant !== config.accountant) throw bad(`it was written by the '${ledger.accountant}' accountant, but the run uses --accountant ${config.accountant}`);
  if (ledger.sampling !== config.sampling) throw bad(`it accounts for ${ledger.sampling} sampling, but the run uses --sampling ${config.sampling}`);
  const steps = ledger.history.reduce((s, e) => s + e.steps, 0);
  if (steps !== step) {
    throw bad(`it records ${steps} steps, but the checkpoint is at step ${step} (state.json): the ledger must account for exactly the steps taken`);
  }
  ledger.history.forEach((e, i) => {
    if (e.noiseMultiplier !== noiseMultiplier) throw bad(`history[${i}] charges σ = ${e.noiseMultiplier}, but every step of the run used σ = ${noiseMultiplier} (state.json)`);
    if (e.sampleRate !== sampleRate) throw bad(`history[${i}] charges q = ${e.sampleRate}, but the run samples at q = ${sampleRate} (sampler.json)`);
  });
  return ledger;
}

function checkNoise(raw: unknown, file: string, state: CheckpointState, dir: string): PrivateGradientsState | null {
  const { config, step } = state;
  const bad = (what: string) => damaged(dir, file, what);
  if (state.noiseMultiplier === null) {
    if (raw !== null) throw bad('it holds noise streams, but the run is not private (--no-dp)');
    return null;
  }
  const stream = (x: unknown): x is { seed: number; draws: number } => isObject(x) && Number.isInteger(x.seed) && isWhole(x.draws);
  if (!isObject(raw) || !stream(raw.noise)) throw bad('it is not a noise state {"noise": {"seed", "draws"}}');
  if (raw.noise.seed !== noiseSeed(config.seed)) throw bad(`its noise seed ${raw.noise.seed} is not the one of the run's --seed ${config.seed}`);
  const adaptive = config.thresholds === 'adaptive';
  if (adaptive !== (raw.thresholds !== undefined)) throw bad(`it ${adaptive ? 'lacks' : 'has'} adaptive thresholds, but the run uses --thresholds ${config.thresholds ?? 'fixed'}`);
  if (adaptive) {
    const t = raw.thresholds;
    const ok = isObject(t) && Array.isArray(t.groups) && Array.isArray(t.thresholds) && t.groups.length === t.thresholds.length &&
      t.thresholds.every((c) => typeof c === 'number' && c > 0) && stream(t.countNoise) && isWhole(t.steps);
    if (!ok) throw bad('"thresholds" is not an adaptive threshold state {"groups", "thresholds", "countNoise", "steps"}');
    if (t.steps !== step || (t.countNoise as { draws: number }).draws !== step) {
      throw bad(`its adaptive thresholds are at step ${t.steps} (${(t.countNoise as { draws: number }).draws} count-noise draws), but the checkpoint is at step ${step}`);
    }
  }
  const clipCounts = !adaptive && config.diagnostics === 'private';
  if (clipCounts !== (raw.clipCounts !== undefined)) {
    throw bad(`it ${clipCounts ? 'lacks' : 'has'} the clip-count noise stream of private diagnostics, but the run uses --diagnostics ${config.diagnostics ?? 'raw'}${adaptive ? ' with adaptive thresholds' : ''}`);
  }
  if (clipCounts) {
    const c = raw.clipCounts;
    if (!isObject(c) || !Array.isArray(c.groups) || !stream(c.countNoise) || !isWhole(c.steps)) throw bad('"clipCounts" is not a clip-count state {"groups", "countNoise", "steps"}');
    if (c.steps !== step || c.countNoise.draws !== step) throw bad(`its clip counts are at step ${c.steps} (${c.countNoise.draws} count-noise draws), but the checkpoint is at step ${step}`);
  }
  return raw as unknown as PrivateGradientsState;
}

/** The step counters (`count`) in an optimizer state: every transformation of the chain that counts steps has one. */
function stepCounters(state: unknown): number[] {
  if (Array.isArray(state)) return state.flatMap(stepCounters);
  if (!isObject(state) || '$tensor' in state) return [];
  return Object.entries(state).flatMap(([k, v]) => (k === 'count' && typeof v === 'number' ? [v] : stepCounters(v)));
}

/** True when an optimizer structure names tensors kept apart (`{ $ref }`, from `Optimizer.stateParts`). */
function refersToTensors(x: unknown): boolean {
  if (Array.isArray(x)) return x.some(refersToTensors);
  return isObject(x) && ('$ref' in x || Object.values(x).some(refersToTensors));
}

async function readOptimizerTensors(file: string, dir: string): Promise<OptimizerStateParts['tensors']> {
  const tensors: Record<string, StateTensor> = {};
  try {
    const st = await openSafetensors(file);
    try {
      for await (const t of st) tensors[t.name] = { shape: t.shape, dtype: t.data instanceof Int32Array ? 'int32' : 'float32', data: t.data };
    } finally {
      await st.close();
    }
  } catch (e) {
    if (e instanceof ClipwiseModelError) throw damaged(dir, file, `it cannot be read: ${withoutFix(e.message)}`);
    throw e;
  }
  return tensors;
}

function checkOptimizer(raw: unknown, file: string, state: CheckpointState, dir: string): unknown {
  const counters = stepCounters(raw);
  if (counters.length === 0) throw damaged(dir, file, 'it is not an optimizer state: it has no step counter');
  const other = counters.find((c) => c !== state.step);
  if (other !== undefined) {
    throw damaged(dir, file, `it is at step ${other}, but the checkpoint (weights and state.json) is at step ${state.step}: the optimizer state belongs to another step`);
  }
  return raw;
}

function checkTokenizer(raw: unknown, file: string, state: CheckpointState, dir: string): SavedVocab | null {
  if (state.config.tokenizer === 'gpt2-subset') {
    const ids = isObject(raw) ? raw.gpt2Ids : undefined;
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) throw damaged(dir, file, 'it is not a gpt2-subset vocabulary {"gpt2Ids": [...]}, which the run needs (--tokenizer gpt2-subset)');
    return { gpt2Ids: ids as number[] };
  }
  const word = state.config.tokenizer === 'word';
  if (raw === null && !word) return null;
  const words = isObject(raw) ? raw.words : undefined;
  if (!word || !Array.isArray(words) || words[0] !== '<|endoftext|>' || words[1] !== '<unk>' || !words.every((w) => typeof w === 'string')) {
    throw damaged(
      dir, file,
      word ? 'it is not a word vocabulary {"words": ["<|endoftext|>", "<unk>", ...]}, which the run needs (--tokenizer word)' : `it holds a vocabulary, but the run uses --tokenizer ${state.config.tokenizer}`,
    );
  }
  return { words };
}

/** What a resumed run computes from its data and model, to check the checkpoint against. */
export interface ResumedRunFacts {
  /** Training examples in --data now. */
  readonly n: number;
  /** q of this run. */
  readonly sampleRate: number;
  readonly plannedSteps: number;
  /** σ this config gives for this data (null for --no-dp). */
  readonly sigma: number | null;
}

/**
 * Checks a checkpoint read by {@link readCheckpoint} against what the run's config gives for the
 * data it has now: the same number of examples (else q = B/N and the ledger would be wrong), the
 * same σ and q in the ledger, and the step within the plan.
 */
export function checkResumedRun(resumed: CheckpointParts, out: string, run: ResumedRunFacts): void {
  const dir = checkpointDir(out);
  const { state, sampler } = resumed;
  const config = state.config;
  if (sampler.datasetSize !== run.n) {
    throw new CheckpointError(
      `--data ${config.data} now gives ${run.n} training examples, but the checkpoint's sampler (${path.join(dir, 'sampler.json')}) draws from ${sampler.datasetSize}: ` +
        `the data changed since the checkpoint, so q = B/N and the ledger would not describe the resumed run. Fix: restore the data the run started with, ` +
        `or start a new run (another --out)`,
    );
  }
  // q = B/N is now the sampler's and the ledger's (readCheckpoint checked them against each other).
  const sigma = state.noiseMultiplier;
  if (sigma !== null && run.sigma !== null && Math.abs(sigma / run.sigma - 1) > 1e-9) {
    const from = config['noise-multiplier'] !== undefined ? `--noise-multiplier ${config['noise-multiplier']}` : `--epsilon ${config.epsilon} over ${run.plannedSteps} steps at q = ${run.sampleRate}`;
    throw damaged(dir, path.join(dir, 'ledger.json'), `its steps were charged at σ = ${sigma}, but the run's config (${from}) gives σ = ${run.sigma}: the checkpoint does not belong to this config`);
  }
  if (state.step > run.plannedSteps) throw damaged(dir, path.join(dir, 'state.json'), `it is at step ${state.step}, past the run's ${run.plannedSteps} planned steps`);
}

/**
 * The noise streams must have drawn one noise tensor per parameter per step: a checkpoint whose
 * noise position does not fit its step would reuse or skip noise.
 */
export function checkNoiseDraws(resumed: CheckpointParts, out: string, paramCount: number): void {
  const draws = resumed.noise?.noise.draws;
  if (draws === undefined || draws === resumed.state.step * paramCount) return;
  const dir = checkpointDir(out);
  throw damaged(
    dir, path.join(dir, 'noise.json'),
    `its noise stream has made ${draws} draws, but ${resumed.state.step} steps of this ${paramCount}-parameter-tensor model make ${resumed.state.step * paramCount}: it belongs to another step or model`,
  );
}

/**
 * Runs `restore` (a package's `fromJSON`, `loadState`, `loadPretrained`, ...) on part `name` of the
 * checkpoint; an error of the package becomes a `CheckpointError` naming the file.
 */
export function restoring<T>(out: string, name: string, restore: () => T): T {
  const dir = checkpointDir(out);
  const fail = (e: unknown): never => {
    const packageError = [ClipwiseError, ClipwiseModelError, ClipwiseDataError, ClipwiseAccountantError, ClipwiseGroupingError].some((c) => e instanceof c);
    if (!packageError) throw e;
    throw damaged(dir, path.join(dir, name), `it cannot be restored: ${withoutFix((e as Error).message)}`);
  };
  try {
    const result = restore();
    return (result instanceof Promise ? result.catch(fail) : result) as T;
  } catch (e) {
    return fail(e);
  }
}

/** A package's message without its own fix (which is for its API, not for a checkpoint) and final period. */
function withoutFix(message: string): string {
  return message.replace(/\s*(Fix:|—).*$/s, '').replace(/[.;]$/, '');
}
