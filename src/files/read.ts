/**
 * The one way a file the user names is read: bounded in size and time, and stoppable.
 *
 * A regular file is read up to its cap. A pipe (`<(command)`, `/dev/stdin` from a pipe, a FIFO) is
 * read as a stream, up to the same cap and within INPUT_PIPE_TIMEOUT_MS, through the event loop (a
 * blocked read in libuv's thread pool would ignore Ctrl-C). Devices (`/dev/zero`, a tty), directories
 * and sockets are refused before they are opened. The open itself is O_NONBLOCK, so a FIFO without a
 * writer cannot hang it.
 */
import { constants, read, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { abortError } from '../errors.js';
import { INPUT_CAPS, type InputKind } from './caps.js';
import { inputError, inputNotRegular, inputTimeout, inputTooLarge, kindOf } from './errors.js';
import { closeFd, fstatFd, openFd, stat } from './fs.js';
import type { CancelSignal } from '../cancel.js';

export { INPUT_CAPS, type InputKind } from './caps.js';

const readFd = (fd: number, buf: Buffer, off: number, len: number, pos: null): Promise<number> =>
  new Promise((resolve, reject) => read(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));


/** How long a pipe may take to deliver all its data. */
export const INPUT_PIPE_TIMEOUT_MS = 30_000;

export interface ReadInputOptions {
  /** Names the input in messages, e.g. "--ssh-key (SSH_PUBLIC_KEY)". */
  what: string;
  /** The cap (default: INPUT_CAPS[kind]). */
  maxBytes?: number;
  signal?: CancelSignal;
  /** Bound for pipes (default INPUT_PIPE_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Reads a user-named input of `kind`; throws INPUT_NOT_FOUND / INPUT_INVALID / INPUT_TIMEOUT / INTERRUPTED. */
export async function readInput(path: string, kind: InputKind, options: ReadInputOptions): Promise<Buffer> {
  const cap = options.maxBytes ?? INPUT_CAPS[kind];
  const { what, signal } = options;
  if (signal?.aborted) throw abortError(signal);
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw inputError(path, what, e);
  }
  if (!st.isFile() && !st.isFIFO()) throw inputNotRegular(path, what, kindOf(st));
  if (st.isFile() && st.size > cap) throw inputTooLarge(path, what, cap);
  let fd: number;
  try {
    // a plain fd, not a FileHandle: a pipe's fd is handed to a net.Socket, which closes it
    fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw inputError(path, what, e);
  }
  let handedOver = false;
  try {
    const now = await fstatFd(fd); // the path may have changed between stat() and open()
    if (now.isFIFO()) {
      handedOver = true;
      return await readPipe(fd, path, cap, { ...options, what });
    }
    if (!now.isFile()) throw inputNotRegular(path, what, kindOf(now));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, cap + 1 - total));
      const bytesRead = await readFd(fd, buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > cap) throw inputTooLarge(path, what, cap); // it grew since fstat
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    throw inputError(path, what, e);
  } finally {
    if (!handedOver) await closeFd(fd).catch(() => {});
  }
}

/** A text input (UTF-8). */
export async function readInputText(path: string, kind: InputKind, options: ReadInputOptions): Promise<string> {
  return (await readInput(path, kind, options)).toString('utf8');
}

/** Reads a pipe through the event loop (the socket owns and closes `fd`): bounded in size and time, abortable. */
function readPipe(fd: number, path: string, cap: number, options: ReadInputOptions): Promise<Buffer> {
  const { what, signal } = options;
  const timeoutMs = options.timeoutMs ?? INPUT_PIPE_TIMEOUT_MS;
  return new Promise<Buffer>((resolve, reject) => {
    const sock = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (err: unknown, data?: Buffer) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.removeAllListeners('data');
      sock.destroy();
      if (err) reject(err);
      else resolve(data!);
    };
    const onAbort = () => finish(abortError(signal!));
    const timer = setTimeout(() => finish(inputTimeout(path, what, timeoutMs)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > cap) return finish(inputTooLarge(path, what, cap));
      chunks.push(chunk);
    });
    sock.once('end', () => finish(undefined, Buffer.concat(chunks, total)));
    sock.once('error', (e) => finish(inputError(path, what, e)));
    if (signal?.aborted) onAbort();
  });
}
