import { constants, write } from 'node:fs';
import { Socket } from 'node:net';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { abortError, type QksError } from '../errors.js';
import { kindOf, outputError, outputInvalid } from './errors.js';
import { blockingFs, closeFd, fstatFd, openFd, threadedFs, type FsCalls } from './fs.js';
import type { CancelSignal } from '../cancel.js';

export { outputError } from './errors.js';

export interface AtomicWriteOptions {
  /** File mode of the result, also when it replaces an existing file. Default 0o600: what we write holds keys, hashes or credentials. */
  mode?: number;
  /** Mode for parent directories created on the way. Default 0o700. */
  dirMode?: number;
  /** Stops a write into a FIFO whose reader does not read. */
  signal?: CancelSignal;
  /**
   * A regular file is checked and written with blocking calls (src/files/fs.ts blockingFs): for a
   * process with this one write to do (the CLI's one-VM kubeconfig). A stream is still written through
   * the event loop, where `signal` can stop it.
   */
  blocking?: boolean;
}

export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
  /** Overrides the options' mode for this file. */
  mode?: number;
}

/**
 * What an output path is, decided before anything is written:
 * - `file`: absent or a regular file: written atomically at `path` (a symlink's target, when it was one);
 * - `stream`: a character device or a FIFO (`/dev/stdout`, `/dev/null`, `mkfifo`): written in place;
 * everything else (a directory, a block device, a socket, a dangling symlink) is refused: OUTPUT_INVALID.
 */
export type OutputTarget =
  | { kind: 'file'; path: string }
  | { kind: 'stream'; path: string; fifo: boolean; append?: boolean }
  /** One of our own descriptors that cannot be reopened by path (stdout a socket): written as it is. */
  | { kind: 'fd'; path: string; fd: number };

/** The calls a write makes: blocking ones when asked (AtomicWriteOptions.blocking), else through the thread pool. */
const callsFor = (options: { blocking?: boolean }): FsCalls => (options.blocking ? blockingFs : threadedFs);

/** A process's open file (`/dev/stdout`, `/proc/self/fd/1`, `/dev/fd/3`): a stream someone else holds open. */
const FD_LINK = /^\/(?:proc\/(?:self|thread-self|\d+)\/fd|dev\/fd)\/\d+$|^\/dev\/std(?:out|err)$/;
// every such path starts so: the pattern only for those (a start's first patterns cost ~0.5 ms, bench/startup.md round 9)
const isFdLinkPath = (p: string) => (p.startsWith('/proc/') || p.startsWith('/dev/')) && FD_LINK.test(p);

/** Whether `path` (or a symlink on the way to its target) is an open-file link of a process. */
async function isFdLink(path: string, fs: FsCalls): Promise<boolean> {
  return (await fdLinkOf(path, fs)) !== undefined;
}

/**
 * Whether `path` names this process's stdout (`/dev/stdout`, `/proc/self/fd/1`, a symlink to one): a
 * verb then treats it as `--output -`, so its own result lines do not land in the middle of the data.
 */
export async function isOwnStdout(path: string, options: { blocking?: boolean } = {}): Promise<boolean> {
  return (await fdLinkOf(path, callsFor(options)))?.ownFd === 1;
}

/** The first open-file link on the way from `path` to its target, and the descriptor it names when it is ours. */
async function fdLinkOf(path: string, fs: FsCalls): Promise<{ ownFd?: number } | undefined> {
  let p = resolvePath(path);
  for (let hops = 0; hops < 40; hops++) {
    if (isFdLinkPath(p)) {
      const std = /^\/dev\/std(out|err)$/.exec(p);
      if (std) return { ownFd: std[1] === 'out' ? 1 : 2 };
      const m = /^\/(?:proc\/(self|thread-self|\d+)\/fd|dev\/fd)\/(\d+)$/.exec(p)!;
      const mine = m[1] === undefined || m[1] === 'self' || m[1] === 'thread-self' || Number(m[1]) === process.pid;
      return mine ? { ownFd: Number(m[2]) } : {};
    }
    const next = await fs.readlink(p).catch(() => undefined);
    if (next === undefined) return undefined;
    p = resolvePath(dirname(p), next);
  }
  return undefined;
}

/** Classifies an output path (see OutputTarget); throws OUTPUT_INVALID / OUTPUT_PERMISSION naming it. */
export async function outputTarget(path: string, fs: FsCalls = threadedFs): Promise<OutputTarget> {
  if (path === '' || path.endsWith('/')) throw outputInvalid(path, 'the path ends with "/": it names a directory, not a file');
  // the common cases in one call (a seed is several files per VM, an inventory many VMs): absent (so no
  // dangling link either), or a regular file that is no link and no open-file path; the rest below
  const quick = await fs.lstat(path).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : undefined));
  if (quick === null || (quick?.isFile() && !isFdLinkPath(resolvePath(path)))) return { kind: 'file', path };
  const st = await fs.stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw outputError(path, e);
  });
  if (!st) {
    // absent, or a symlink to nothing: writing through a dangling link would create a file wherever it points
    const link = await fs.lstat(path).catch(() => undefined);
    if (link?.isSymbolicLink()) throw outputInvalid(path, 'it is a symbolic link to a path that does not exist', 'Remove the link or point it at an existing file.');
    return { kind: 'file', path };
  }
  const link = await fs.lstat(path).catch((e: unknown) => {
    throw outputError(path, e);
  });
  // as the kernel's protected_symlinks does in /tmp: a link someone else owns is not followed, so a link
  // planted by another user cannot point root's write at /etc/shadow or a device
  const uid = process.getuid?.();
  if (link.isSymbolicLink() && uid !== undefined && link.uid !== uid && link.uid !== 0) {
    throw outputInvalid(path, `it is a symbolic link owned by another user (uid ${link.uid}); it is not followed`, 'Write to the real path, or remove the link.');
  }
  if (st.isFile()) {
    // `--output /dev/stdout` with stdout redirected to a file: append to what the shell holds open, as
    // `>>` would; replacing that file would discard what was written to it before
    if (await isFdLink(path, fs)) return { kind: 'stream', path, fifo: false, append: true };
    // the link is followed: its target is replaced atomically in the target's own directory (the link stays)
    return { kind: 'file', path: link.isSymbolicLink() ? await fs.realpath(path).catch((e: unknown) => { throw outputError(path, e); }) : path };
  }
  if (st.isCharacterDevice() || st.isFIFO()) return { kind: 'stream', path, fifo: st.isFIFO() };
  if (st.isSocket()) {
    // `--output /dev/stdout` when stdout is a socket (a service, a parent process): a socket cannot be
    // reopened by path, so our own descriptor is written as it is
    const ownFd = (await fdLinkOf(path, fs))?.ownFd;
    if (ownFd !== undefined) return { kind: 'fd', path, fd: ownFd };
  }
  throw outputInvalid(path, `it is ${kindOf(st)}; only a regular file, a character device or a FIFO can be written`);
}

/**
 * Writes `data` to `path`. A regular file (or a new path) is replaced so that readers see either the
 * old file or the whole new one, never a part: a temporary file in the same directory, fsync, rename
 * over, fsync of the directory (so the rename itself survives a crash); on failure the temporary file
 * is removed and an existing `path` is left untouched. A symlink is followed and its target replaced
 * that way. A character device or a FIFO is written to as a stream (never replaced). Anything else is
 * refused with OUTPUT_INVALID (exit 2), nothing touched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const target = await outputTarget(path, callsFor(options));
  if (target.kind !== 'file') {
    await (target.kind === 'fd' ? writeOwnFd(target.fd, data, options.signal) : writeStream(target, data, options.signal)).catch((e: unknown) => {
      throw outputError(path, e);
    });
    return;
  }
  await writeChecked([{ path: target.path, data }], options);
}

/**
 * Writes several files as one step as far as a filesystem allows: every file's temporary copy is
 * written and synced first, and only then are they renamed into place. A failure while writing (a full
 * disk, a permission) leaves every existing file untouched and no temporary behind. Renames within a
 * directory need no space, so the second phase fails only if something else changes the directory.
 * Every path must be absent or a regular file (or a symlink to one): one step cannot include a stream.
 */
export async function writeFilesAtomic(files: readonly FileToWrite[], options: AtomicWriteOptions = {}): Promise<void> {
  // every path is checked before anything is written; the checks only look, so they run together, and
  // the error is the first refusal in the list's order
  const fs = callsFor(options);
  const checked = await Promise.allSettled(files.map((f) => outputTarget(f.path, fs)));
  const targets: FileToWrite[] = files.map((f, i) => {
    const r = checked[i]!;
    if (r.status === 'rejected') throw r.reason;
    const t = r.value;
    if (t.kind !== 'file') throw outputInvalid(f.path, `it is ${t.kind === 'stream' && t.fifo ? 'a FIFO' : 'not a regular file'}; files written together as one step must be regular files`, 'Remove it, or choose another directory.');
    return { ...f, path: t.path };
  });
  await writeChecked(targets, options);
}

/** writeFilesAtomic after the checks: every path is absent or a regular file (a link's target already resolved). */
async function writeChecked(targets: readonly FileToWrite[], options: AtomicWriteOptions): Promise<void> {
  const fs = callsFor(options);
  const temps: string[] = [];
  let current = targets[0]?.path ?? '';
  try {
    // each parent directory once (a failure names the first file that needs it)
    const made = new Set<string>();
    for (const f of targets) {
      const dir = dirname(f.path);
      if (made.has(dir)) continue;
      current = f.path;
      await fs.mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o700 });
      made.add(dir);
    }
    // the temporaries are written and synced together, so their fsyncs overlap instead of queueing; a
    // failure of any waits for the others, and every temporary made is removed below
    const written = await Promise.allSettled(targets.map((f) => writeTemp(f, f.mode ?? options.mode ?? 0o600, fs)));
    for (const r of written) if (r.status === 'fulfilled') temps.push(r.value);
    const failed = written.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      current = targets[failed]!.path;
      throw (written[failed] as PromiseRejectedResult).reason;
    }
    for (const [i, f] of targets.entries()) {
      current = f.path;
      await fs.rename(temps[i]!, f.path);
    }
  } catch (e) {
    await Promise.all(temps.map((t) => fs.rm(t, { force: true }).catch(() => {})));
    throw outputError(current, e);
  }
  for (const dir of new Set(targets.map((f) => dirname(f.path)))) await syncDir(dir, fs);
}

/**
 * Writes into a character device or a FIFO without replacing it. A FIFO is opened O_NONBLOCK (no
 * reader: ENXIO at once, not a hang) and written through the event loop, so an abort stops it.
 */
async function writeStream(target: Extract<OutputTarget, { kind: 'stream' }>, data: string | Uint8Array, signal?: CancelSignal): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_NOCTTY | (target.fifo ? constants.O_NONBLOCK : 0) | (target.append ? constants.O_APPEND : 0);
  const fd = await openFd(target.path, flags).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENXIO') throw outputInvalid(target.path, 'it is a FIFO with no reader', 'Start the reader first (e.g. cat FIFO &).', 'ENXIO');
    throw e;
  });
  const st = await fstatFd(fd).catch(async (e: unknown) => {
    await closeFd(fd).catch(() => {});
    throw e;
  });
  if (st.isFIFO()) return writePipe(fd, data, signal);
  try {
    if (!st.isCharacterDevice() && !(target.append && st.isFile())) throw outputInvalid(target.path, `it became ${kindOf(st)} while it was opened`);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.byteLength; ) off += await writeFd(fd, buf, off);
  } finally {
    await closeFd(fd).catch(() => {});
  }
}

/** How long to wait before retrying a write that a non-blocking descriptor refused (EAGAIN). */
const EAGAIN_RETRY_MS = 5;

/** Writes all of `data` to one of our descriptors (left open): non-blocking ones are retried on EAGAIN until aborted. */
async function writeOwnFd(fd: number, data: string | Uint8Array, signal?: CancelSignal): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let off = 0; off < buf.byteLength; ) {
    if (signal?.aborted) throw abortError(signal);
    try {
      off += await writeFd(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, EAGAIN_RETRY_MS));
    }
  }
}

function writeFd(fd: number, buf: Uint8Array, off: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, off, buf.byteLength - off, null, (e, n) => (e ? reject(e) : resolve(n))));
}

/** The socket owns `fd` and closes it. */
function writePipe(fd: number, data: string | Uint8Array, signal?: CancelSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sock = new Socket({ fd, readable: false, writable: true });
    const done = (err?: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err as QksError);
      else resolve();
    };
    const onAbort = () => done(abortError(signal!));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('error', (e) => done(e));
    sock.end(data, () => done());
  });
}

/** fsync of a directory, so that renames in it are durable; some file systems refuse it: best effort. */
async function syncDir(dir: string, fs: FsCalls): Promise<void> {
  const fd = await fs.openFd(dir, 'r').catch(() => undefined);
  if (fd === undefined) return;
  await fs.fsyncFd(fd).catch(() => {});
  await fs.closeFd(fd).catch(() => {});
}

/** A synced temporary copy of `f` beside it (its directory exists); returns its path. */
async function writeTemp(f: FileToWrite, mode: number, fs: FsCalls): Promise<string> {
  const dir = dirname(f.path);
  // the name need not be unguessable (open 'wx' refuses one that exists): Math.random, not node:crypto,
  // whose load cost a kubeconfig write 1-4 ms (bench/startup.md)
  const tmp = join(dir, `.${basename(f.path)}.${process.pid}.${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}.tmp`);
  const fd = await fs.openFd(tmp, 'wx', mode);
  try {
    await fs.writeFd(fd, f.data);
    await fs.fchmodFd(fd, mode); // the umask may have narrowed or widened what open() gave
    await fs.fsyncFd(fd);
  } catch (e) {
    await fs.closeFd(fd).catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await fs.closeFd(fd).catch(() => {}); // once: the number may be another file's after a close
  return tmp;
}
