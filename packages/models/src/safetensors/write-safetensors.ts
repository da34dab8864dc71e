import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ClipwiseModelError } from '../clipwise-model-error.js';
import { planSafetensors } from './build-header.js';
import { encodeTensorChunks } from './encode-tensor.js';
import type { SafetensorsTensorInput } from './tensor.js';

/**
 * Writes tensors to a safetensors file readable by Hugging Face `safetensors` (Python/Rust) and by
 * {@link openSafetensors}. Tensors are streamed to disk one at a time (large ones in chunks), so memory
 * use stays near the size of the inputs. The write is atomic: data goes to
 * `<path>.tmp-<pid>-<random>` in the same directory, is fsynced, then renamed over `path`; a crash or
 * error leaves either the old file or the complete new one, never a half-written checkpoint (and the
 * temporary file is removed on error). See {@link SafetensorsTensorInput} for the accepted values.
 *
 * @param path target file; its directory must exist
 * @param tensors tensors by name
 * @param metadata optional `__metadata__` string map (HF writes `{ format: 'pt' }`)
 * @example
 * ```ts
 * import { writeSafetensors } from '@clipwise/models/node';
 * await writeSafetensors('ckpt.safetensors', {
 *   'wte.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) },
 *   step: { dtype: 'I64', shape: [], data: new BigInt64Array([100n]) },
 * }, { format: 'pt' });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, SafetensorsTensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const plan = planSafetensors(tensors, metadata);
  const tmp = join(dirname(path), `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'wx');
  } catch (cause) {
    throw new ClipwiseModelError(
      `cannot write checkpoint ${path}: creating ${tmp} failed (${(cause as Error).message}). Fix: check that the directory exists and is writable.`,
      { cause },
    );
  }
  try {
    await writeAll(handle, plan.headerBytes);
    for (const { name, tensor } of plan.order) {
      for (const chunk of encodeTensorChunks(name, tensor)) await writeAll(handle, chunk);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined); // the original error is the one to report
    await unlink(tmp).catch(() => undefined);
    if (err instanceof ClipwiseModelError) throw err;
    throw new ClipwiseModelError(
      `writing checkpoint ${path} failed (${(err as Error).message}); ${path} was left as it was. ` +
        'Fix: check free disk space and permissions, and that the target is not a directory.',
      { cause: err },
    );
  }
  await syncDirectory(dirname(path));
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

/** Makes the rename itself durable. Windows cannot open a directory for fsync, so it is skipped there. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
