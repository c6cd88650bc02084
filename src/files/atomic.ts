import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QksError } from '../errors.js';

export interface AtomicWriteOptions {
  /** File mode of the result, also when it replaces an existing file. Default 0o600: what we write holds keys, hashes or credentials. */
  mode?: number;
  /** Mode for parent directories created on the way. Default 0o700. */
  dirMode?: number;
}

/** errno codes that mean "not yours to write": the user picks another path, it is no bug. */
const PERMISSION_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a part:
 * a temporary file in the same directory, fsync, rename over, fsync of the directory (so the rename
 * itself survives a crash). On failure the temporary file is removed and an existing `path` is left
 * untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o700 });
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode); // the umask may have narrowed or widened what open() gave
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    const err = e as NodeJS.ErrnoException;
    const denied = PERMISSION_ERRNOS.has(err.code ?? '');
    // Node's fs messages already start with the errno code ("EACCES: permission denied, open '…'")
    throw new QksError(denied ? 'OUTPUT_PERMISSION' : 'OUTPUT_FAILED', `cannot write ${path}: ${err.message}`, {
      hint: denied ? 'Choose an output path you can write to.' : undefined,
      retryable: false,
      details: { path, errno: err.code },
      cause: e,
    });
  }
  await syncDir(dir);
}

/** fsync of a directory; some file systems refuse it (EINVAL, EISDIR): the rename is done either way. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // best effort
  } finally {
    await fh.close();
  }
}
