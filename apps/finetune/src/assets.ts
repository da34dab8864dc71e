import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's shipped assets folder (`apps/finetune/assets`), from the built CLI or from sources. */
export function assetsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '..', 'assets'), path.join(here, '..', '..', 'assets')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`clipwise: the shipped assets folder was not found next to ${here}; reinstall the package`);
}
