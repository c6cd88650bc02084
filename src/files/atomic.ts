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

export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
  /** Overrides the options' mode for this file. */
  mode?: number;
}

/** errno codes that mean "not yours to write": the user picks another path, it is no bug (exit 4, not 1). */
const PERMISSION_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a part:
 * a temporary file in the same directory, fsync, rename over, fsync of the directory (so the rename
 * itself survives a crash). On failure the temporary file is removed and an existing `path` is left
 * untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFilesAtomic([{ path, data }], options);
}

/**
 * Writes several files as one step as far as a filesystem allows: every file's temporary copy is
 * written and synced first, and only then are they renamed into place. A failure while writing (a full
 * disk, a permission) leaves every existing file untouched and no temporary behind. Renames within a
 * directory need no space, so the second phase fails only if something else changes the directory.
 */
export async function writeFilesAtomic(files: readonly FileToWrite[], options: AtomicWriteOptions = {}): Promise<void> {
  const temps: string[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const f of files) {
      current = f.path;
      temps.push(await writeTemp(f, f.mode ?? options.mode ?? 0o600, options.dirMode ?? 0o700));
    }
    for (const [i, f] of files.entries()) {
      current = f.path;
      await rename(temps[i]!, f.path);
    }
  } catch (e) {
    await Promise.all(temps.map((t) => rm(t, { force: true }).catch(() => {})));
    throw outputError(current, e);
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) await syncDir(dir);
}

/** A failed write of `path` as the error users see: a permission is theirs to fix (exit 4), the rest exit 1. */
export function outputError(path: string, e: unknown): QksError {
  const err = e as NodeJS.ErrnoException;
  const denied = PERMISSION_ERRNOS.has(err.code ?? '');
  // Node's fs messages already start with the errno code ("EACCES: permission denied, open '…'")
  return new QksError(denied ? 'OUTPUT_PERMISSION' : 'OUTPUT_FAILED', `cannot write ${path}: ${err.message}`, {
    hint: denied ? 'Choose an output path you can write to.' : err.code === 'ENOSPC' ? 'The disk is full.' : undefined,
    retryable: false,
    details: { path, errno: err.code },
    cause: e,
  });
}

/** fsync of a directory, so that renames in it are durable; some file systems refuse it: best effort. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => {});
  await fh.close().catch(() => {});
}

async function writeTemp(f: FileToWrite, mode: number, dirMode: number): Promise<string> {
  const dir = dirname(f.path);
  await mkdir(dir, { recursive: true, mode: dirMode });
  const tmp = join(dir, `.${basename(f.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(f.data);
    await fh.chmod(mode); // the umask may have narrowed or widened what open() gave
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw e;
  } finally {
    await fh.close().catch(() => {});
  }
  return tmp;
}
