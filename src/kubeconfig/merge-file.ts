/**
 * The I/O half of --merge: which file ($KUBECONFIG's first, else ~/.kube/config, or --merge FILE),
 * kubectl's lock (`<file>.lock`, created exclusively and removed after, as client-go's clientcmd does),
 * one backup of the previous content, and the atomic 0600 write (src/files/atomic.ts).
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, realpath, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFilesAtomic } from '../files/atomic.js';
import { sleep } from '../deadline.js';
import type { CancelSignal } from '../cancel.js';
import { TIMEOUTS } from '../timeouts.js';
import { kubeconfigLocked, mergeLockDenied, mergeTargetInvalid, mergeTargetUnreadable } from './errors.js';
import type { MergeEntries } from './merge-entries.js';
import { MAX_MERGE_TARGET_BYTES, mergeKubeconfig, type MergeResult } from './merge.js';

/** Bounds of the lock wait (ms; src/timeouts.ts). */
export const MERGE_LOCK = TIMEOUTS.mergeLock;

/** Suffix of the one backup kept beside the file (ours alone: a user's own `config.bak` is never touched). */
export const BACKUP_SUFFIX = '.qemu-kubesolo.bak';

/** Who holds the lock, as far as we can tell: our own locks carry the pid; kubectl's are empty. */
async function describeHolder(lock: string): Promise<string> {
  const text = await readFile(lock, 'utf8').catch(() => '');
  const pid = Number(/^qemu-kubesolo pid (\d+)/.exec(text)?.[1]);
  if (!pid) return 'kubectl (or another tool) is writing the file, or one that crashed left its lock behind';
  try {
    process.kill(pid, 0);
    return `qemu-kubesolo process ${pid} is merging into it`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH' ? `it was left by qemu-kubesolo process ${pid}, which is no longer running` : `qemu-kubesolo process ${pid} holds it`;
  }
}

/** Runs `fn` holding `<file>.lock`; waits for it (bounded) when someone else holds it. */
export async function withKubeconfigLock<T>(file: string, fn: () => Promise<T>, opts: { waitMs?: number; signal?: CancelSignal } = {}): Promise<T> {
  const lock = `${file}.lock`;
  const waitMs = opts.waitMs ?? MERGE_LOCK.waitMs;
  const started = performance.now();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      const fh = await open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.writeFile(`qemu-kubesolo pid ${process.pid}\n`).finally(() => fh.close());
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw mergeLockDenied(file, lock, e as Error);
      }
      const waited = performance.now() - started;
      if (waited >= waitMs) throw kubeconfigLocked(file, lock, waited, await describeHolder(lock));
      await sleep(Math.min(MERGE_LOCK.pollMs, waitMs - waited), opts.signal);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => {});
  }
}

/** Reads the target, bounded; '' when it does not exist. Refuses what is not a regular file. */
async function readTarget(path: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw mergeTargetUnreadable(path, e as Error);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw mergeTargetInvalid(path, 'it is not a regular file');
    if (st.size > MAX_MERGE_TARGET_BYTES) throw mergeTargetInvalid(path, `it is larger than ${MAX_MERGE_TARGET_BYTES} bytes`);
    const buf = Buffer.alloc(Math.min(st.size + 1, MAX_MERGE_TARGET_BYTES + 1));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, bytesRead));
    } catch {
      throw mergeTargetInvalid(path, 'it is not UTF-8 text');
    }
  } finally {
    await fh.close();
  }
}

export interface MergeFileResult extends MergeResult {
  /** The file as named (what the lock is taken on). */
  path: string;
  /** Where the previous content was kept, when there was some. */
  backup?: string;
  bytes: number;
}

/**
 * Merges `entries` into `file` under `name` while holding kubectl's lock: backup of the old content,
 * atomic 0600 write. A target that is not a kubeconfig is refused with nothing changed.
 */
export async function mergeIntoFile(
  file: string,
  entries: MergeEntries,
  opts: { name: string; useContext: boolean; signal?: CancelSignal; lockWaitMs?: number },
): Promise<MergeFileResult> {
  return withKubeconfigLock(
    file,
    async () => {
      // a symlinked ~/.kube/config (dotfile managers) keeps its link: the file it points to is replaced
      const real = await realpath(file).catch(() => file);
      const old = await readTarget(real);
      const merged = mergeKubeconfig(old, entries, { name: opts.name, useContext: opts.useContext, file });
      const data = Buffer.from(merged.text, 'utf8');
      const backup = old.trim() === '' ? undefined : `${real}${BACKUP_SUFFIX}`;
      await writeFilesAtomic([...(backup ? [{ path: backup, data: old }] : []), { path: real, data }], { mode: 0o600, dirMode: 0o700 });
      return { ...merged, path: file, ...(backup ? { backup } : {}), bytes: data.byteLength };
    },
    { waitMs: opts.lockWaitMs, signal: opts.signal },
  );
}
