/**
 * The direct transport: the guest agent's unix socket (a libvirt channel socket, or qemu-ga's own
 * `-m unix-listen` socket), spoken to with Node `net`. Only I/O lives here: the handshake is the pure
 * state machine in ./handshake.ts, the wire format ./framing.ts, the bounds src/deadline.ts.
 *
 * One command in flight at a time, like qemu-ga; one of our callers on a socket at a time (./lock.ts).
 * After a client-side timeout the next command resynchronises, so a late reply to an abandoned command
 * is never taken for the answer to a new one; the late reply still frees what it opened in the guest.
 */
import { createConnection, type Socket } from 'node:net';
import { backoffMs, bounded, monotonicMs, sleep, startDeadline } from '../deadline.js';
import type { CancelSignal } from '../cancel.js';
import { QksError } from '../errors.js';
import { TIMEOUTS } from '../timeouts.js';
import { agentReplyError, connectError, disconnectedError, protocolError, timeoutError } from './errors.js';
import { encodeCommand, FrameDecoder, type Frame } from './framing.js';
import { Handshake } from './handshake.js';
import { acquireSocketLock, type SocketLock } from './lock.js';
import { agentErrorBody } from './messages.js';
import type { AgentTransport, ExecuteOptions, TransportInfo } from './transport.js';

export interface DirectOptions {
  /** Bound on connect(). Default TIMEOUTS.agent.connectMs. */
  connectTimeoutMs?: number;
  /** Bound on the handshake answer; no answer at all means SOCKET_HELD. Default TIMEOUTS.agent.handshakeMs. */
  handshakeTimeoutMs?: number;
  /** Default bound of one command. Default TIMEOUTS.agent.commandMs. */
  commandTimeoutMs?: number;
  /**
   * Take turns with our other callers on this socket (./lock.ts): `false` skips it (a test posing as a
   * foreign client); a number bounds the wait (default TIMEOUTS.agent.lockWaitMs).
   */
  lock?: false | { timeoutMs?: number; verb?: string };
  /** For messages and transportInfo: the channel name and domain this socket belongs to. */
  channel?: string;
  domain?: string;
  /** Largest reply accepted (bytes). Default MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  signal?: CancelSignal;
}

type Waiter = {
  onFrame(frame: Frame): void;
  fail(err: QksError): void;
};

/** Commands that leave something in the guest when their reply is lost: freed when the late reply comes. */
const LEAVES_SOMETHING = new Set(['guest-file-open', 'guest-exec']);

/**
 * How many commands that open something a guest may answer too late (per socket, in this process)
 * before we stop sending more: each may leave a file handle or a process behind.
 */
export const MAX_UNRESOLVED = 8;
const unresolvedBySocket = new Map<string, number>();

/** Unresolved late commands per socket (tests). */
export function unresolvedCount(socketPath: string): number {
  return unresolvedBySocket.get(socketPath) ?? 0;
}

function addUnresolved(socketPath: string, n: number): void {
  const v = (unresolvedBySocket.get(socketPath) ?? 0) + n;
  if (v <= 0) unresolvedBySocket.delete(socketPath);
  else unresolvedBySocket.set(socketPath, v);
}

/**
 * Sync ids above 2^32: no file handle or pid is that large, so a late `{"return": N}` is never taken for a
 * sync answer. Math.random, not node:crypto (~2 ms to load, bench/startup.md): the id is no secret, it
 * only has to differ from a stale sync's id left in the channel.
 */
const syncId = () => 2 ** 32 + 1 + Math.floor(Math.random() * (2 ** 47 - 2 ** 32 - 1));

/** Opens the socket (after our turn) and completes the handshake; everything is released again on any failure. */
export async function connectDirect(socketPath: string, options: DirectOptions = {}): Promise<DirectTransport> {
  const handshakeMs = options.handshakeTimeoutMs ?? TIMEOUTS.agent.handshakeMs;
  const lock =
    options.lock === false
      ? undefined
      : await acquireSocketLock(socketPath, { ...(options.lock?.timeoutMs !== undefined ? { timeoutMs: options.lock.timeoutMs } : {}), ...(options.lock?.verb ? { verb: options.lock.verb } : {}), signal: options.signal });
  let socket: Socket;
  try {
    socket = await openSocket(socketPath, options.connectTimeoutMs ?? TIMEOUTS.agent.connectMs, handshakeMs, options.signal);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const transport = new DirectTransport(socket, socketPath, options, lock);
  try {
    await transport.handshake(true, options.signal);
  } catch (e) {
    // never leave a connection queued on a held socket: its bytes would reach the guest once the holder lets go
    await transport.close();
    throw e;
  }
  return transport;
}

/**
 * connect(), retrying EAGAIN ("listen queue full": qemu-ga's tiny backlog while it serves another
 * client) with jittered backoff until `retryMs` has passed.
 */
async function openSocket(socketPath: string, timeoutMs: number, retryMs: number, signal?: CancelSignal): Promise<Socket> {
  const end = monotonicMs() + retryMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectOnce(socketPath, timeoutMs, signal);
    } catch (e) {
      if (!(e instanceof QksError) || e.details.errno !== 'EAGAIN') throw e;
      const left = end - monotonicMs();
      if (left <= 0) throw e;
      await sleep(Math.min(left, backoffMs(attempt, TIMEOUTS.connectRetry)), signal);
    }
  }
}

function connectOnce(socketPath: string, timeoutMs: number, signal?: CancelSignal): Promise<Socket> {
  let socket: Socket | undefined;
  let connected = false;
  return bounded<Socket>({ timeoutMs, signal, onTimeout: () => timeoutError(`connect to ${socketPath}`, timeoutMs, { socketPath }) }, ({ resolve, reject }) => {
    const s = createConnection({ path: socketPath });
    socket = s;
    const onError = (e: NodeJS.ErrnoException) => reject(connectError(e, socketPath));
    const onConnect = () => {
      connected = true;
      resolve(s);
    };
    s.once('error', onError);
    s.once('connect', onConnect);
    return () => {
      s.off('error', onError);
      s.off('connect', onConnect);
      if (!connected) socket?.destroy();
    };
  });
}

export class DirectTransport implements AgentTransport {
  readonly info: TransportInfo;
  private readonly decoder: FrameDecoder;
  private waiter: Waiter | undefined;
  /** Closed, by us or the peer: no more writes, every later command fails AGENT_DISCONNECTED. */
  private closed = false;
  private needsResync = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly handshakeTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  /** Commands given up on whose reply has not come yet, oldest first (qemu-ga answers in order). */
  private readonly abandoned: string[] = [];
  /** Handles a late guest-file-open reply gave us: closed once the channel is resynced. */
  private readonly lateHandles: number[] = [];
  /** Guest pids a late guest-exec reply gave us (the process runs on; reported, not killed). */
  readonly latePids: number[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly socketPath: string,
    options: DirectOptions = {},
    private readonly lock?: SocketLock,
  ) {
    this.info = {
      kind: 'direct',
      socketPath,
      ...(options.channel ? { channel: options.channel } : {}),
      ...(options.domain ? { domain: options.domain } : {}),
    };
    this.decoder = new FrameDecoder(options.maxMessageBytes);
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? TIMEOUTS.agent.handshakeMs;
    this.commandTimeoutMs = options.commandTimeoutMs ?? TIMEOUTS.agent.commandMs;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows and reports it
    // the error is built only for a waiter: a normal close() has none, and builds no error at all
    socket.on('close', () => this.onClosed(() => disconnectedError(socketPath, 'a command')));
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      const err = e instanceof QksError ? e : protocolError(String(e));
      this.onClosed(() => err);
      this.socket.destroy();
      return;
    }
    for (const f of frames) {
      if (this.waiter) this.waiter.onFrame(f);
      // between commands: only late replies arrive here
      else if (f.type === 'message') this.onLate(f.value);
    }
  }

  /** A reply to the oldest abandoned command: note what it opened in the guest. */
  private onLate(value: Record<string, unknown>): void {
    const command = this.abandoned.shift();
    if (!command) return;
    if (LEAVES_SOMETHING.has(command)) addUnresolved(this.socketPath, -1);
    const r = value.return;
    if (command === 'guest-file-open' && Number.isInteger(r)) this.lateHandles.push(r as number);
    else if (command === 'guest-exec' && r && typeof r === 'object' && Number.isInteger((r as { pid?: unknown }).pid)) this.latePids.push((r as { pid: number }).pid);
  }

  /** `why` builds the error for a command still waiting, if there is one. */
  private onClosed(why: () => QksError): void {
    if (this.closed) return;
    this.closed = true;
    this.lock?.release();
    const w = this.waiter;
    this.waiter = undefined;
    w?.fail(why());
  }

  /** Waits for frames until `take` returns a value; one waiter at a time (commands are serialised). */
  private wait<T>(take: (f: Frame) => T | undefined, timeoutMs: number, onTimeout: () => QksError, during: string, signal?: CancelSignal): Promise<T> {
    if (this.closed) return Promise.reject(disconnectedError(this.socketPath, during));
    return bounded<T>({ timeoutMs, signal, onTimeout, onCancel: () => (this.needsResync = true) }, ({ resolve, reject }) => {
      this.waiter = {
        onFrame: (f) => {
          let v: T | undefined;
          try {
            v = take(f);
          } catch (e) {
            reject(e);
            return;
          }
          if (v !== undefined) resolve(v);
        },
        fail: (err) => reject(err.code === 'AGENT_DISCONNECTED' ? disconnectedError(this.socketPath, during) : err),
      };
      return () => (this.waiter = undefined);
    });
  }

  private write(data: Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  /**
   * Synchronises with the agent. `initial`: on a fresh connection silence means the socket is held
   * (SOCKET_HELD); later it means the agent is stuck (AGENT_TIMEOUT).
   */
  async handshake(initial: boolean, signal?: CancelSignal, timeoutMs: number = this.handshakeTimeoutMs): Promise<void> {
    const hs = new Handshake({ socketPath: this.socketPath, channel: this.info.channel, initial, nextId: syncId });
    this.write(hs.start(syncId()));
    await this.wait(
      (f) => {
        const step = hs.onFrame(f);
        if (step.late) this.onLate(step.late);
        if (step.send) this.write(step.send);
        return step.done;
      },
      timeoutMs,
      () => hs.timeout(timeoutMs, { buffered: this.decoder.buffered, garbage: this.decoder.pendingGarbage }),
      'the handshake',
      signal,
    );
    this.needsResync = false;
    // whatever was abandoned and did not answer before our sentinel never will on this stream
    this.forgetAbandoned();
  }

  /** Unanswered ones stay counted in unresolvedBySocket: what they opened is out of our reach. */
  private forgetAbandoned(): void {
    this.abandoned.length = 0;
  }

  execute(command: string, args?: Record<string, unknown>, options: ExecuteOptions = {}): Promise<unknown> {
    const run = this.chain.then(() => this.executeNow(command, args, options));
    this.chain = run.catch(() => {});
    return run;
  }

  private async executeNow(command: string, args: Record<string, unknown> | undefined, options: ExecuteOptions): Promise<unknown> {
    if (this.closed) throw disconnectedError(this.socketPath, command);
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    // the resync and the cleanup count against the command's own bound, so a caller's deadline holds
    const deadline = startDeadline(timeoutMs, { onTimeout: () => timeoutError(command, timeoutMs, { socketPath: this.socketPath, command }) });
    try {
      if (this.needsResync) await this.handshake(false, options.signal, Math.min(this.handshakeTimeoutMs, deadline.left()));
      if (this.lateHandles.length) await this.closeLateHandles(deadline.left(), options.signal);
      if (LEAVES_SOMETHING.has(command) && unresolvedCount(this.socketPath) >= MAX_UNRESOLVED) {
        throw protocolError(`the guest agent on ${this.socketPath} answered ${MAX_UNRESOLVED} commands too late: not sending ${command} (each may leave a handle or a process in the guest)`, {
          socketPath: this.socketPath,
          command,
          unresolved: unresolvedCount(this.socketPath),
        });
      }
      return await this.roundTrip(command, args, deadline.left(), timeoutMs, options.signal);
    } finally {
      deadline.dispose();
    }
  }

  private async roundTrip(command: string, args: Record<string, unknown> | undefined, leftMs: number, timeoutMs: number, signal?: CancelSignal): Promise<unknown> {
    this.write(encodeCommand(command, args));
    let reply: Record<string, unknown>;
    try {
      reply = await this.wait(
        (f) => (f.type === 'message' && ('return' in f.value || 'error' in f.value) ? f.value : undefined),
        leftMs,
        () => timeoutError(command, timeoutMs, { socketPath: this.socketPath, command }),
        command,
        signal,
      );
    } catch (e) {
      if (this.needsResync) {
        // given up on: its reply may still come, and may carry a handle or a pid to free
        this.abandoned.push(command);
        if (LEAVES_SOMETHING.has(command)) addUnresolved(this.socketPath, 1);
      }
      throw e;
    }
    if ('error' in reply) {
      const body = agentErrorBody(reply.error);
      if (!body) throw protocolError(`malformed error reply to ${command}`, { command, reply: JSON.stringify(reply).slice(0, 200) });
      throw agentReplyError(command, body);
    }
    return reply.return;
  }

  /** guest-file-close for every handle a late reply gave us; failures are dropped (the bound still holds). */
  private async closeLateHandles(leftMs: number, signal?: CancelSignal): Promise<void> {
    while (this.lateHandles.length && !this.closed) {
      const handle = this.lateHandles.shift()!;
      await this.roundTrip('guest-file-close', { handle }, Math.min(leftMs, TIMEOUTS.agent.closeHandleMs), TIMEOUTS.agent.closeHandleMs, signal).catch(() => {});
      if (this.needsResync) return;
    }
  }

  /**
   * Closes the connection. When a command that opens something was given up on, first waits a little
   * (TIMEOUTS.agent.drainMs) for its late reply and frees what it opened.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.closed && this.abandoned.some((c) => LEAVES_SOMETHING.has(c))) {
        await this.chain;
        const drainMs = TIMEOUTS.agent.drainMs;
        await this.handshake(false, undefined, drainMs)
          .then(() => this.closeLateHandles(drainMs))
          .catch(() => {});
      }
      this.onClosed(() => disconnectedError(this.socketPath, 'close'));
      if (!this.socket.destroyed) this.socket.destroy();
    })();
    return this.closing;
  }
}
