import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/**
 * Writes `data` to `path` so that a crash never leaves a half-written file: a temporary file in the
 * same directory, fsynced, then renamed over the target. On failure the target is left as it was
 * and the error names the file.
 *
 * @example
 * await writeFileAtomic('run/ledger.json', JSON.stringify(ledger));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (cause) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`writing ${path} failed (${(cause as Error).message}); it was left as it was`, { cause });
  }
}
