import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeJsonSyntaxError } from '../json-text';
import { writeJsonAtomic } from './atomic-write';
import { CheckpointError, damaged } from './checkpoint-error';

/** The file, in OUT/checkpoint/, that lists every other file of a complete checkpoint; written last. */
export const MANIFEST_FILE = 'manifest.json';

/** One file of a checkpoint as it was written: its path relative to the checkpoint folder, size and SHA-256. */
export interface ManifestEntry {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * `OUT/checkpoint/manifest.json`. Written after every other file, so its presence marks a complete
 * checkpoint, and each file's size and hash make a truncated, edited or half-replaced file detectable.
 */
export interface CheckpointManifest {
  version: 1;
  /** The step the files were saved at. */
  step: number;
  /** Every file of the checkpoint, in the order they were written. */
  files: ManifestEntry[];
  /**
   * Set (to the new step) just before a newer checkpoint starts replacing these files, and gone
   * once its own manifest is written: a mismatch with it set means the writing was cut.
   */
  writing?: number;
}

/** What each file holds, for the message when it is missing. */
const CONTENTS: Record<string, string> = {
  'ledger.json': 'the privacy spent so far (the accountant ledger)',
  'sampler.json': "the batch sampler's position",
  'noise.json': "the noise streams' position",
  'optimizer.safetensors': "the optimizer state's tensors (e.g. Adam's moments)",
  'optimizer.json': 'the optimizer state',
  'tokenizer.json': 'the word vocabulary',
  'model/config.json': "the model's config",
  'model/model.safetensors': 'the weights',
  'state.json': "the step and the run's config",
};

/** SHA-256 of a file, hex, read as a stream (a checkpoint's weights can be GBs). */
async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Records `files` (relative to `dir`, in write order) as they are on disk now, in `dir/manifest.json`. */
export async function writeManifest(dir: string, step: number, files: readonly string[]): Promise<void> {
  const entries: ManifestEntry[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    entries.push({ path: f, bytes: statSync(file).size, sha256: await fileSha256(file) });
  }
  await writeJsonAtomic(path.join(dir, MANIFEST_FILE), { version: 1, step, files: entries } satisfies CheckpointManifest);
}

/**
 * Before a checkpoint of `step` replaces the files of the one in `dir`: notes it in the old
 * manifest, so that a cut between the files' writes is reported as one. False when there is none.
 */
export async function markManifestWriting(dir: string, step: number): Promise<boolean> {
  const manifest = readManifest(dir);
  if (!manifest) return false;
  await writeJsonAtomic(path.join(dir, MANIFEST_FILE), { ...manifest, writing: step });
  return true;
}

/** A JSON file of the checkpoint in `dir`; one that cannot be read or parsed is a `CheckpointError` naming it and the position. */
export function readCheckpointJson(dir: string, name: string): unknown {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw damaged(dir, file, `cannot be read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw damaged(dir, file, `not valid JSON (${describeJsonSyntaxError(text, e)})`);
  }
}

/** The manifest in `dir`, checked for form; null when there is none. */
export function readManifest(dir: string): CheckpointManifest | null {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return null;
  const raw = readCheckpointJson(dir, MANIFEST_FILE);
  const bad = (what: string) => damaged(dir, file, `${what} (expected {"version": 1, "step": N, "files": [{"path", "bytes", "sha256"}, ...]})`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.version !== 1) throw bad(`version is ${JSON.stringify(m.version)}, this clipwise reads version 1`);
  if (!isStep(m.step)) throw bad(`"step" is ${JSON.stringify(m.step)}, not a whole number`);
  if (m.writing !== undefined && !isStep(m.writing)) throw bad(`"writing" is ${JSON.stringify(m.writing)}, not a whole number`);
  if (!Array.isArray(m.files)) throw bad('"files" is not a list');
  m.files.forEach((e: unknown, i) => {
    const entry = e as Partial<ManifestEntry> | null;
    const ok =
      typeof entry === 'object' && entry !== null && typeof entry.path === 'string' && !path.isAbsolute(entry.path) &&
      !entry.path.split(/[\\/]/).includes('..') && isStep(entry.bytes) && typeof entry.sha256 === 'string' && /^[0-9a-f]{64}$/.test(entry.sha256);
    if (!ok) throw bad(`files[${i}] is ${JSON.stringify(e)}, not a file inside the checkpoint with its size and SHA-256`);
  });
  return raw as CheckpointManifest;
}

/**
 * Checks every file the manifest lists against its recorded size and SHA-256, in write order; the
 * first that differs is reported: missing, truncated or changed, or, while a newer checkpoint was
 * being written over this one, cut.
 */
export async function verifyManifest(dir: string, manifest: CheckpointManifest): Promise<void> {
  const manifestFile = path.join(dir, MANIFEST_FILE);
  for (const entry of manifest.files) {
    const file = path.join(dir, entry.path);
    if (!existsSync(file)) {
      const holds = CONTENTS[entry.path] ? `it holds ${CONTENTS[entry.path]}, and ` : '';
      throw damaged(dir, file, `missing; ${holds}${manifestFile} lists it (${entry.bytes} bytes, step ${manifest.step})`);
    }
    const bytes = statSync(file).size;
    const sha256 = bytes === entry.bytes ? await fileSha256(file) : null;
    if (sha256 === entry.sha256) continue;
    if (manifest.writing !== undefined) {
      throw new CheckpointError(
        `${dir}: the checkpoint was cut while being written: the run stopped while replacing the checkpoint of step ${manifest.step} ` +
          `with one of step ${manifest.writing} (${entry.path} is already replaced, ${MANIFEST_FILE} is not), so its files are from two different steps ` +
          `and the run cannot resume from them. Fix: delete ${dir} to start over (or train into another --out)`,
      );
    }
    throw damaged(
      dir,
      file,
      sha256 === null
        ? `has ${bytes} bytes, but ${manifestFile} recorded ${entry.bytes} (truncated, or replaced after the checkpoint was written)`
        : `its content changed after the checkpoint was written (SHA-256 ${sha256.slice(0, 12)}…, ${manifestFile} recorded ${entry.sha256.slice(0, 12)}…)`,
    );
  }
}

function isStep(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}
