/**
 * One user of an agent socket at a time, across processes and within one: qemu-ga and QEMU's chardev
 * serve one client and queue the rest unanswered (README.md, "Why a second guest-agent channel"), so our own callers take turns here
 * instead of being mistaken for a socket held by libvirt.
 *
 * Across processes the lock is an abstract unix socket (Linux) named after the agent socket's real
 * path, bound by the holder. The kernel drops it when the holder exits, however it exits (kill -9
 * included): no lock file to go stale, nothing to clean up, no pid-reuse guesswork. A waiter that
 * finds the name taken connects to it and the holder says who it is (pid, verb), for the error when
 * the wait runs out. Abstract names live in the network namespace: processes in different containers
 * do not see each other's locks (they rarely share a host's channel socket).
 * Within one process a queue per socket path orders callers before they reach the kernel.
 * Elsewhere than Linux only the in-process queue applies.
 */
import { realpathSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { bounded, backoffMs, sleep, startDeadline } from '../deadline.js';
import type { CancelSignal } from '../cancel.js';
import { abortError } from '../errors.js';
import { TIMEOUTS } from '../timeouts.js';
import { busyError } from './errors.js';

export interface LockHolder {
  pid: number;
  /** What the holder is doing, e.g. `kubeconfig` or `agent ping`. */
  verb: string;
  /** When it took the lock (ms since the epoch). */
  since: number;
}

export interface LockOptions {
  /** How long to wait for our turn. Default TIMEOUTS.agent.lockWaitMs. */
  timeoutMs?: number;
  /** Shown to other waiters. Default: this process's verb (from its arguments). */
  verb?: string;
  signal?: CancelSignal | undefined;
}

export interface SocketLock {
  /** Gives the socket to the next caller. Idempotent. */
  release(): void;
}

const ABSTRACT = process.platform === 'linux';

/** The lock's name for an agent socket: the same for every path that reaches the same file. */
export function lockName(socketPath: string): string {
  let real: string;
  try {
    // the C realpath: a third of the JS one's cost, per agent connection (bench/agent.bench.ts)
    real = realpathSync.native(socketPath);
  } catch {
    real = resolve(socketPath);
  }
  return `\0qemu-kubesolo-lock-${hash128(real)}`;
}

/**
 * 128 bits of the path as 32 hex digits (cyrb128: four multiply-xorshift lanes), not node:crypto: loading
 * it for this one hash cost each agent start ~1-4 ms (bench/startup.md). The name needs no secrecy, and a
 * collision would only make two sockets take turns.
 */
export function hash128(text: string): string {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, '0')).join('');
}

/** A short label of what this process does, for other waiters' messages: the first two words of its arguments. */
function defaultVerb(): string {
  // once per process: each agent connection asks
  return (argvVerb ??= process.argv.slice(2).filter((a) => !a.startsWith('-')).slice(0, 2).join(' ') || 'library');
}
let argvVerb: string | undefined;

// in-process turns: the tail of each socket's queue
const queues = new Map<string, Promise<void>>();

/**
 * Waits for our turn on `socketPath` (in this process, then across processes) and holds it until
 * `release()`. Rejects with SOCKET_BUSY (the holder's pid and verb) when `timeoutMs` runs out.
 */
export async function acquireSocketLock(socketPath: string, options: LockOptions = {}): Promise<SocketLock> {
  const name = lockName(socketPath);
  const verb = options.verb ?? defaultVerb();
  // no caller of ours ahead on this socket: take the name at once, without a deadline or a wait
  if (!queues.has(name) && !options.signal?.aborted) {
    if (!ABSTRACT) return once(joinQueue(name).drop);
    const server = bindNow(name, { pid: process.pid, verb, since: Date.now() });
    if (server) {
      const { drop } = joinQueue(name);
      return once(() => closeThen(server, drop));
    }
    // taken by another process (or an error): the waiting path below retries and reports it
  }
  const timeoutMs = options.timeoutMs ?? TIMEOUTS.agent.lockWaitMs;
  let holder: LockHolder | undefined = { pid: process.pid, verb: 'another caller in this process', since: Date.now() };
  const deadline = startDeadline(timeoutMs, { onTimeout: () => busyError(socketPath, timeoutMs, holder), signal: options.signal });
  // in-process: chain behind the previous caller for this socket
  const { before, drop: dropLocal } = joinQueue(name);
  try {
    await bounded<void>({ timeoutMs, signal: deadline.signal, onTimeout: () => busyError(socketPath, timeoutMs, holder) }, ({ resolve }) => {
      void before.then(resolve);
    });
    if (!ABSTRACT) {
      deadline.dispose();
      return once(dropLocal);
    }
    holder = undefined;
    const server = await bindAbstract(name, { pid: process.pid, verb, since: Date.now() }, deadline.signal, socketPath, (h) => (holder = h));
    deadline.dispose();
    return once(() => closeThen(server, dropLocal));
  } catch (e) {
    deadline.dispose();
    dropLocal();
    throw deadline.signal.aborted && !options.signal?.aborted ? deadline.signal.reason : e;
  }
}

/** Joins the in-process queue of `name`: `before` settles when the caller ahead lets go, `drop` lets the next one go. */
function joinQueue(name: string): { before: Promise<void>; drop: () => void } {
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const before = queues.get(name) ?? Promise.resolve();
  const tail = before.then(() => mine);
  queues.set(name, tail);
  return {
    before,
    drop: () => {
      release();
      if (queues.get(name) === tail) queues.delete(name);
    },
  };
}

/**
 * Frees the name, then lets our next caller go. close() closes the listening descriptor before it
 * returns (libuv closes a pipe's fd at once; only the callback waits for the loop), so the name is
 * free for the next caller, here or in a child started synchronously (lock.test.ts): it need not
 * wait a tick for the 'close' event.
 */
function closeThen(server: Server, next: () => void): void {
  server.close();
  next();
}

function once(f: () => void): SocketLock {
  let done = false;
  return {
    release() {
      if (done) return;
      done = true;
      f();
    },
  };
}

/** Binds the abstract name, retrying (jittered) while another process has it; asks the holder who it is. */
async function bindAbstract(name: string, me: LockHolder, signal: CancelSignal, socketPath: string, seen: (h: LockHolder | undefined) => void): Promise<Server> {
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) throw abortError(signal);
    const server = holderServer(me);
    const bound = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)));
      listenHere(server, name, () => resolve(true));
    }).catch((e: NodeJS.ErrnoException) => {
      throw busyError(socketPath, 0, undefined, `cannot take the lock (${e.code ?? e.message})`);
    });
    if (bound) {
      // a forgotten lock must not keep the process alive; the kernel frees it at exit
      server.unref();
      return server;
    }
    if (attempt % 8 === 0) seen(await askHolder(name));
    await sleep(backoffMs(attempt, TIMEOUTS.lockRetry), signal);
  }
}

type LegacyServer = Server & { _listen2?: (address: string, port: number, addressType: number, backlog: number) => void; _pipeName?: string; _handle?: unknown };

/** A server that tells who holds the lock to whoever connects. */
function holderServer(me: LockHolder): Server {
  return createServer((c) => {
    c.on('error', () => {});
    c.end(JSON.stringify(me));
  });
}

/**
 * Binds `name` in this process: what `server.listen({ path: name, exclusive: true })` does (exclusive: a
 * cluster worker's lock must die with the worker, not live in the primary), without Node first loading
 * cluster, child_process and dgram for listen()'s cluster check (~2-10 ms of each agent start,
 * bench/startup.md). `_listen2` is the name Node keeps for this step "to avoid breaking code that wraps
 * this method" (lib/net.js); where it is missing, listen() as documented.
 */
function listenHere(server: Server, name: string, onListening: () => void): void {
  const s = server as LegacyServer;
  if (typeof s._listen2 !== 'function') {
    server.listen({ path: name, exclusive: true }, onListening);
    return;
  }
  s._pipeName = name;
  server.once('listening', onListening);
  // errors (EADDRINUSE) arrive as 'error' on the next tick, as from listen()
  s._listen2(name, -1, -1, 511);
}

/**
 * One bind of `name`, done before this returns: `_listen2` binds and listens synchronously and leaves
 * `_handle` set only when both worked (lib/net.js setupListenHandle). The server, or undefined when the
 * name is taken, the bind failed for another reason, or `_listen2` is missing (the caller then takes
 * the waiting path, which retries and reports the reason).
 */
function bindNow(name: string, me: LockHolder): Server | undefined {
  const server = holderServer(me) as LegacyServer;
  if (typeof server._listen2 !== 'function') return undefined;
  // a failure is also emitted as 'error' on the next tick: nobody else listens for it here
  server.on('error', () => {});
  server._pipeName = name;
  server._listen2(name, -1, -1, 511);
  if (!server._handle) return undefined;
  // a forgotten lock must not keep the process alive; the kernel frees it at exit
  server.unref();
  return server;
}

/** The holder's self-description, or undefined when it does not answer quickly (it may be exiting). */
function askHolder(name: string): Promise<LockHolder | undefined> {
  return bounded<LockHolder | undefined>({ timeoutMs: TIMEOUTS.lockRetry.askMs, onTimeout: () => new Error('no answer') }, ({ resolve }) => {
    const c = createConnection({ path: name });
    let text = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      text += d;
      if (text.length > 4096) c.destroy();
    });
    c.on('error', () => resolve(undefined));
    c.on('close', () => {
      try {
        const v = JSON.parse(text) as Partial<LockHolder>;
        resolve(typeof v.pid === 'number' && typeof v.verb === 'string' ? { pid: v.pid, verb: v.verb.slice(0, 200), since: Number(v.since) || 0 } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    return () => c.destroy();
  }).catch(() => undefined);
}
