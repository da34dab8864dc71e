import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `data` to `file` so that a crash leaves either the old file or the new one, never a torn
 * one: a temporary file in the same directory (same file system, so the rename is atomic), fsync,
 * rename, then fsync of the directory so the rename itself is durable. Creates the directory. On
 * failure the target is left as it was and the error names the file.
 *
 * @example
 * import { writeFileAtomic } from '@clipwise/models/node';
 * await writeFileAtomic('run/ledger.json', JSON.stringify(ledger));
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (cause) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`writing ${file} failed (${(cause as Error).message}); it was left as it was`, { cause });
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await d.close();
  }
}
