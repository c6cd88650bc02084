/**
 * The direct transport: the guest agent's unix socket (a libvirt channel socket, or qemu-ga's own
 * `-m unix-listen` socket), spoken to with Node `net`. One command in flight at a time, like qemu-ga.
 *
 * Every connection starts with the handshake qemu-ga documents: a 0xFF byte (flushes a half-read
 * command), guest-sync-delimited with a fresh random id, and everything dropped until the 0xFF that
 * precedes our id. After any client-side timeout the next command resynchronises the same way, so a
 * late reply to an abandoned command is never taken for the answer to a new one.
 */
import { randomInt } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { abortError, QksError } from '../errors.js';
import { agentReplyError, connectError, disconnectedError, heldError, protocolError, timeoutError } from './errors.js';
import { encodeCommand, FrameDecoder, SENTINEL, type Frame } from './framing.js';
import { AgentErrorSchema } from './messages.js';
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import type { AgentTransport, ExecuteOptions, TransportInfo } from './transport.js';

export interface DirectOptions {
  /** Bound on connect(). Default DEFAULT_TIMEOUTS.connectMs. */
  connectTimeoutMs?: number;
  /** Bound on the handshake answer; no answer at all means SOCKET_HELD. Default DEFAULT_TIMEOUTS.handshakeMs. */
  handshakeTimeoutMs?: number;
  /** Default bound of one command. Default DEFAULT_TIMEOUTS.commandMs. */
  commandTimeoutMs?: number;
  /** For messages and transportInfo: the channel name and domain this socket belongs to. */
  channel?: string;
  domain?: string;
  /** Largest reply accepted (bytes). Default MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  signal?: AbortSignal;
}

type Waiter = {
  onFrame(frame: Frame): void;
  fail(err: QksError): void;
};

/** Opens the socket and completes the handshake; the connection is closed again on any failure. */
export async function connectDirect(socketPath: string, options: DirectOptions = {}): Promise<DirectTransport> {
  const socket = await openSocket(socketPath, options.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectMs, options.signal);
  const transport = new DirectTransport(socket, socketPath, options);
  try {
    await transport.handshake(true, options.signal);
  } catch (e) {
    // never leave a connection queued on a held socket: its bytes would reach the guest later (FACTS §1)
    await transport.close();
    throw e;
  }
  return transport;
}

function openSocket(socketPath: string, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const socket = createConnection({ path: socketPath });
    const done = (err?: QksError) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onError = (e: NodeJS.ErrnoException) => done(connectError(e, socketPath));
    const onConnect = () => done();
    const onAbort = () => done(abortError(signal!));
    const timer = setTimeout(() => done(timeoutError(`connect to ${socketPath}`, timeoutMs, { socketPath })), timeoutMs);
    socket.once('error', onError);
    socket.once('connect', onConnect);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class DirectTransport implements AgentTransport {
  readonly info: TransportInfo;
  private readonly decoder: FrameDecoder;
  private waiter: Waiter | undefined;
  private closedError: QksError | undefined;
  private needsResync = false;
  private bytesIn = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly handshakeTimeoutMs: number;
  private readonly commandTimeoutMs: number;

  constructor(
    private readonly socket: Socket,
    private readonly socketPath: string,
    options: DirectOptions = {},
  ) {
    this.info = {
      kind: 'direct',
      socketPath,
      ...(options.channel ? { channel: options.channel } : {}),
      ...(options.domain ? { domain: options.domain } : {}),
    };
    this.decoder = new FrameDecoder(options.maxMessageBytes);
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_TIMEOUTS.handshakeMs;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_TIMEOUTS.commandMs;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows and reports it
    socket.on('close', () => this.onClosed(disconnectedError(socketPath, 'a command')));
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      const err = e instanceof QksError ? e : protocolError(String(e));
      this.onClosed(err);
      this.socket.destroy();
      return;
    }
    for (const f of frames) this.waiter?.onFrame(f);
  }

  private onClosed(err: QksError): void {
    if (this.closedError) return;
    this.closedError = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.fail(err);
  }

  /**
   * Waits for frames until `take` returns a value; `onTimeout` builds the error when the bound runs out.
   * Exactly one waiter at a time (commands are serialised).
   */
  private wait<T>(take: (f: Frame) => T | undefined, timeoutMs: number, onTimeout: () => QksError, during: string, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedError) return reject(disconnectedError(this.socketPath, during));
      if (signal?.aborted) return reject(abortError(signal));
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        fn();
      };
      const onAbort = () => {
        this.needsResync = true;
        finish(() => reject(abortError(signal!)));
      };
      const timer = setTimeout(() => {
        this.needsResync = true;
        finish(() => reject(onTimeout()));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        onFrame: (f) => {
          let v: T | undefined;
          try {
            v = take(f);
          } catch (e) {
            finish(() => reject(e));
            return;
          }
          if (v !== undefined) finish(() => resolve(v));
        },
        fail: (err) => finish(() => reject(err.code === 'AGENT_DISCONNECTED' ? disconnectedError(this.socketPath, during) : err)),
      };
    });
  }

  private write(data: Buffer): void {
    if (!this.closedError) this.socket.write(data);
  }

  /**
   * Synchronises with the agent. `initial`: on a fresh connection silence means the socket is held
   * (SOCKET_HELD); later it means the agent is stuck (AGENT_TIMEOUT).
   */
  async handshake(initial: boolean, signal?: AbortSignal, timeoutMs: number = this.handshakeTimeoutMs): Promise<void> {
    const bytesBefore = this.bytesIn;
    let id = randomInt(1, 2 ** 47);
    let delimited = true;
    let sawSentinel = false;
    let garbage = 0;
    let messages = 0;
    this.write(Buffer.concat([Buffer.of(SENTINEL), encodeCommand('guest-sync-delimited', { id })]));
    await this.wait(
      (f) => {
        if (f.type === 'sentinel') sawSentinel = true;
        else if (f.type === 'garbage') garbage += f.bytes;
        else {
          messages++;
          const v = f.value;
          if ('return' in v && v.return === id && (sawSentinel || !delimited)) return true;
          const err = AgentErrorSchema.safeParse(v.error);
          if (delimited && err.success && err.data.class === 'CommandNotFound' && err.data.desc.includes('guest-sync-delimited')) {
            // an agent without guest-sync-delimited (or with it blocked): plain guest-sync, a new id
            delimited = false;
            id = randomInt(1, 2 ** 47);
            this.write(encodeCommand('guest-sync', { id }));
          }
        }
        return undefined;
      },
      timeoutMs,
      () => {
        const details = { socketPath: this.socketPath, ...(this.info.channel ? { channel: this.info.channel } : {}) };
        if (initial && this.bytesIn === bytesBefore) return heldError(this.socketPath, this.info.channel, timeoutMs);
        if (garbage + this.decoder.pendingGarbage > 0 && messages === 0)
          return protocolError(`the peer on ${this.socketPath} answered the handshake with bytes that are not guest-agent JSON`, { ...details, garbageBytes: garbage + this.decoder.pendingGarbage });
        return timeoutError('guest-sync-delimited', timeoutMs, details);
      },
      'the handshake',
      signal,
    );
    this.needsResync = false;
  }

  execute(command: string, args?: Record<string, unknown>, options: ExecuteOptions = {}): Promise<unknown> {
    const run = this.chain.then(() => this.executeNow(command, args, options));
    this.chain = run.catch(() => {});
    return run;
  }

  private async executeNow(command: string, args: Record<string, unknown> | undefined, options: ExecuteOptions): Promise<unknown> {
    if (this.closedError) throw disconnectedError(this.socketPath, command);
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    // the resync counts against the command's own bound, so a caller's deadline holds
    const end = performance.now() + timeoutMs;
    if (this.needsResync) await this.handshake(false, options.signal, Math.min(this.handshakeTimeoutMs, timeoutMs));
    this.write(encodeCommand(command, args));
    const reply = await this.wait(
      (f) => (f.type === 'message' && ('return' in f.value || 'error' in f.value) ? f.value : undefined),
      Math.max(1, Math.ceil(end - performance.now())),
      () => timeoutError(command, timeoutMs, { socketPath: this.socketPath, command }),
      command,
      options.signal,
    );
    if ('error' in reply) {
      const body = AgentErrorSchema.safeParse(reply.error);
      if (!body.success) throw protocolError(`malformed error reply to ${command}`, { command, reply: JSON.stringify(reply).slice(0, 200) });
      throw agentReplyError(command, body.data);
    }
    return reply.return;
  }

  async close(): Promise<void> {
    this.onClosed(disconnectedError(this.socketPath, 'close'));
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
