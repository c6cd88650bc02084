import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QksError } from '../errors.js';

export interface AtomicWriteOptions {
  /** File mode of the result. Default 0o600: what we write holds keys, hashes or credentials. */
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

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a part:
 * a temporary file in the same directory, fsync, rename over. On failure the temporary file is removed
 * and an existing `path` is left untouched.
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
    const err = e as NodeJS.ErrnoException;
    throw new QksError('OUTPUT_FAILED', `cannot write ${current}: ${err.code ?? ''} ${err.message}`.trim(), {
      hint: err.code === 'EACCES' || err.code === 'EPERM' ? 'Choose an output path you can write to.' : err.code === 'ENOSPC' ? 'The disk is full.' : undefined,
      retryable: false,
      details: { path: current, errno: err.code },
      cause: e,
    });
  }
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
