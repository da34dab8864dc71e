// Locates the shared real data folder: `<repo root>/../shared/data` (present on dev machines and CI).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: this file is at packages/data/src/__fixtures__/. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Absolute path of the shared data folder. */
export const sharedDataDir = path.resolve(repoRoot, '../shared/data');

/** True when the shared data folder exists; tests that read it are skipped otherwise. */
export const hasSharedData = existsSync(sharedDataDir);
