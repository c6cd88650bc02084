/**
 * A qemu-ga look-alike on a unix socket, for tests and for users' own test harnesses. It speaks the
 * same wire protocol (0xFF flush, guest-sync-delimited, one JSON object per line), serves one client
 * at a time like qemu-ga (others wait, connected but unanswered), and can misbehave on request.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import type { Volume } from 'memfs';
import { FrameDecoder, SENTINEL } from '../agent/framing.js';
import { FakeGuest, fail, ok, type AgentReply } from './guest.js';

export interface FakeAgentFaults {
  /** Wait this long before each reply (ms). */
  delayMs?: number;
  /** Wait this long before replying to these commands (ms), beside delayMs: a guest slow at one thing. */
  delayCommands?: Record<string, number>;
  /**
   * Replies to these commands sent instead of the guest's: a string goes out as raw bytes (a hostile
   * agent: deep nesting, bad base64), an object as one JSON reply (e.g. `{ return: {...} }`).
   */
  replies?: Record<string, string | Record<string, unknown>>;
  /** Write each reply in pieces of this many bytes, one write per tick. */
  splitWrites?: number;
  /** Sent to each new client before anything else, as if left over from an earlier client (objects, or raw text). */
  staleReplies?: (Record<string, unknown> | string)[];
  /** Sent to each new client before anything else: bytes that are not JSON. */
  garbage?: string;
  /** Answer every request with this instead of a reply (a peer that is not qemu-ga). */
  garbageOnly?: boolean;
  /** Write half the reply to these commands (true: every command but the sync ones), then close. */
  disconnectMidReply?: boolean | string[];
  /** Commands reported as disabled (class CommandNotFound, "has been disabled"), like qemu-ga -b. */
  disabled?: string[];
  /** Accept clients and read their requests, never answer (a socket held elsewhere, a dead agent). */
  neverAnswer?: boolean;
  /** guest-exec-status answers `exited: false` this many times first. Default 2. */
  execPolls?: number;
  /** Behave like an agent without guest-sync-delimited (answers CommandNotFound). */
  noSyncDelimited?: boolean;
  /** Answer the 0xFF flush byte with a JSON parse error, as qemu-ga 7.2 does. Default true. */
  flushError?: boolean;
}

export interface FakeAgentOptions {
  socketPath: string;
  /** The guest's files: guest path → contents. */
  files?: Record<string, string | Uint8Array>;
  faults?: FakeAgentFaults;
  /** The version guest-info reports. */
  version?: string;
}

export interface FakeAgent {
  readonly socketPath: string;
  /** The guest filesystem (memfs). */
  readonly vol: Volume;
  /** Faults in force; change them at any time. */
  faults: FakeAgentFaults;
  /** Every request received, in order (commands and arguments). */
  readonly requests: { execute: string; arguments?: Record<string, unknown> }[];
  /** Clients connected now (served and waiting). */
  readonly connections: number;
  /** Guest file handles open now. */
  readonly openHandles: number;
  /** Writes a guest file, now or after `afterMs` (a kubeconfig that appears once the install is done). */
  setFile(path: string, data: string | Uint8Array, options?: { afterMs?: number }): void;
  close(): Promise<void>;
}

const SYNC_COMMANDS = new Set(['guest-sync', 'guest-sync-delimited']);

/**
 * A socket file left by an earlier run would make listen() fail: remove it, but only when nothing
 * listens there (connection refused). A live socket (another agent, a VM's channel) is left alone and
 * listen() then fails with EADDRINUSE.
 */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) return;
  } catch {
    return; // not there: fine
  }
  const refused = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
  if (refused) unlinkSync(path);
}

export async function startFakeAgent(options: FakeAgentOptions): Promise<FakeAgent> {
  const faults: FakeAgentFaults = { ...options.faults };
  const state = { faults };
  const guest = new FakeGuest(options.files, {
    disabled: () => state.faults.disabled ?? [],
    execPolls: () => state.faults.execPolls ?? 2,
    ...(options.version ? { version: options.version } : {}),
  });
  const requests: FakeAgent['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const waiting: Socket[] = [];
  let active: Socket | undefined;

  const later = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const serveNext = () => {
    active = undefined;
    while (waiting.length) {
      const s = waiting.shift()!;
      if (!s.destroyed) {
        serve(s);
        return;
      }
    }
  };

  const serve = (socket: Socket) => {
    active = socket;
    const decoder = new FrameDecoder();
    let chain = Promise.resolve();
    const f = () => state.faults;

    const send = async (data: Buffer, command?: string) => {
      if (socket.destroyed) return;
      const cut = f().disconnectMidReply;
      if (command && !SYNC_COMMANDS.has(command) && (cut === true || (Array.isArray(cut) && cut.includes(command)))) {
        socket.write(data.subarray(0, Math.max(1, data.length >> 1)));
        socket.destroy();
        return;
      }
      const n = f().splitWrites;
      if (!n) {
        socket.write(data);
        return;
      }
      for (let i = 0; i < data.length && !socket.destroyed; i += n) {
        socket.write(data.subarray(i, i + n));
        await new Promise((r) => setImmediate(r));
      }
    };
    const reply = async (r: AgentReply | string | Record<string, unknown>, command?: string, prefix?: Buffer) => {
      if (f().delayMs) await later(f().delayMs!);
      const slow = command ? f().delayCommands?.[command] : undefined;
      if (slow) await later(slow);
      const body = f().garbageOnly ? Buffer.from('this is not json\n') : Buffer.from(typeof r === 'string' ? r : JSON.stringify(r) + '\n');
      await send(prefix ? Buffer.concat([prefix, body]) : body, command);
    };

    const onRequest = async (msg: Record<string, unknown>) => {
      const command = typeof msg.execute === 'string' ? msg.execute : undefined;
      const args = (msg.arguments && typeof msg.arguments === 'object' ? msg.arguments : {}) as Record<string, unknown>;
      if (!command) return reply(fail("QMP input lacks member 'execute'"));
      requests.push({ execute: command, ...(msg.arguments ? { arguments: args } : {}) });
      if (f().neverAnswer) return;
      if (command === 'guest-sync-delimited' && !f().noSyncDelimited && !f().disabled?.includes(command)) {
        return reply(ok(args.id), command, Buffer.of(SENTINEL));
      }
      if (command === 'guest-sync-delimited') {
        return reply(fail(`The command ${command} has ${f().noSyncDelimited ? 'not been found' : 'been disabled for this instance'}`, 'CommandNotFound'), command);
      }
      if (command === 'guest-sync') return reply(ok(args.id), command);
      const scripted = f().replies?.[command];
      if (scripted !== undefined) return reply(scripted, command);
      return reply(guest.handle(command, args), command);
    };

    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const fr of frames) {
        chain = chain.then(async () => {
          if (socket.destroyed || f().neverAnswer) return;
          if (fr.type === 'message') await onRequest(fr.value);
          else if (fr.type === 'sentinel') {
            if (f().flushError !== false) await reply(fail("JSON parse error, stray '\uFFFD'")); // U+FFFD itself, as qemu-ga decodes 0xFF
          } else await reply(fail(`JSON parse error, stray '${fr.text.slice(0, 1)}'`));
        });
      }
    });
    const leftovers: Buffer[] = [];
    if (f().garbage) leftovers.push(Buffer.from(f().garbage!));
    for (const s of f().staleReplies ?? []) leftovers.push(Buffer.from(typeof s === 'string' ? s : JSON.stringify(s) + '\n'));
    if (leftovers.length && !f().neverAnswer) socket.write(Buffer.concat(leftovers));
    socket.resume();
  };

  await removeStaleSocket(options.socketPath);
  const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (socket === active) serveNext();
    });
    // one client at a time, like qemu-ga: later ones stay connected and unanswered until it leaves
    if (active) waiting.push(socket);
    else serve(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    socketPath: options.socketPath,
    vol: guest.vol,
    get faults() {
      return state.faults;
    },
    set faults(v: FakeAgentFaults) {
      state.faults = v;
    },
    requests,
    get connections() {
      return sockets.size;
    },
    get openHandles() {
      return guest.openHandles;
    },
    setFile(path, data, opts = {}) {
      if (!opts.afterMs) return guest.setFile(path, data);
      void later(opts.afterMs).then(() => guest.setFile(path, data));
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
