import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkpointDir } from '../src/train/checkpoint';
import { writeManifest, type CheckpointManifest } from '../src/train/checkpoint-manifest';

/** Every file under `dir` (dot files too) with the SHA-256 of its content: to show that a refused resume changed nothing. */
export function folderDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A copy of the run folder `out` in a new temporary folder; returns its path. */
export function copyRun(out: string): string {
  const copy = path.join(mkdtempSync(path.join(tmpdir(), 'clipwise-run-copy-')), 'out');
  cpSync(out, copy, { recursive: true });
  return copy;
}

export const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
export const writeJson = (file: string, value: unknown) => writeFileSync(file, JSON.stringify(value));

/**
 * Edits a JSON file of the checkpoint in `out` and writes a manifest that matches the edit, as if the
 * checkpoint had been written that way: what is left to catch it are the cross-checks.
 */
export async function editSealed(out: string, name: string, edit: (value: any) => unknown): Promise<void> {
  const dir = checkpointDir(out);
  const file = path.join(dir, name);
  writeJson(file, edit(readJson(file)));
  await reseal(out);
}

/** Rewrites the manifest of the checkpoint in `out` for its files as they are now. */
export async function reseal(out: string): Promise<void> {
  const dir = checkpointDir(out);
  const manifest = readJson(path.join(dir, 'manifest.json')) as CheckpointManifest;
  await writeManifest(dir, manifest.step, manifest.files.map((f) => f.path));
}
