/**
 * One connection to libvirtd's RPC socket: sends calls, matches replies by serial, bounds every wait.
 * The I/O edge of libvirt-rpc/: framing, XDR and the protocol are pure modules beside it.
 */
import { connect, type Socket } from 'node:net';
import { bounded } from '../../deadline.js';
import { QksError } from '../../errors.js';
import { LIBVIRT_AUTH_HINT, libvirtErrorToQks, type ErrorContext } from './errors.js';
import { MessageDecoder, MessageStatus, MessageType, type RpcMessage } from './framing.js';
import { decodeRemoteError, encodeCall } from './protocol.js';
import type { XdrWriter } from './xdr.js';

export interface CallOptions {
  timeoutMs: number;
  /** What the call is for: names it in errors and decides how libvirt errors map. */
  context: ErrorContext;
  /** Stops waiting (Ctrl-C); a late reply is dropped. */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (e: QksError) => void;
  context: ErrorContext;
}

/** Observes raw bytes (tests record fixtures with it). */
export type TrafficTap = (direction: 'out' | 'in', chunk: Buffer) => void;

export class LibvirtSession {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly decoder = new MessageDecoder();
  private failure: QksError | undefined;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
    private readonly tap?: TrafficTap,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(new QksError('LIBVIRT_ERROR', `libvirtd socket ${socketPath}: ${e.message}`, { retryable: true, cause: e })));
    socket.on('close', () => this.fail(new QksError('LIBVIRT_ERROR', `libvirtd closed the connection on ${socketPath}`, { retryable: true, hint: 'libvirtd may have restarted; try again.' })));
  }

  /** Connects to the socket within `timeoutMs`. ENOENT/ECONNREFUSED: LIBVIRT_NOT_RUNNING; EACCES: LIBVIRT_AUTH. */
  static connect(socketPath: string, options: { timeoutMs: number; signal?: AbortSignal; tap?: TrafficTap }): Promise<LibvirtSession> {
    const onTimeout = () =>
      new QksError('LIBVIRT_TIMEOUT', `libvirtd socket ${socketPath} did not accept the connection within ${options.timeoutMs} ms`, { hint: 'libvirtd is overloaded or hung; check it (systemctl status libvirtd).' });
    return bounded<LibvirtSession>({ timeoutMs: options.timeoutMs, signal: options.signal, onTimeout }, ({ resolve, reject }) => {
      const socket = connect(socketPath);
      let connected = false;
      const onConnect = () => {
        connected = true;
        resolve(new LibvirtSession(socket, socketPath, options.tap));
      };
      const onError = (e: NodeJS.ErrnoException) => reject(connectError(socketPath, e));
      socket.once('connect', onConnect);
      socket.once('error', onError);
      return () => {
        socket.off('error', onError);
        socket.off('connect', onConnect);
        if (!connected) socket.destroy();
      };
    });
  }

  /** Sends one call and resolves with the reply body; a libvirt error rejects as a mapped QksError. */
  call(program: number, procedure: number, args: XdrWriter | undefined, options: CallOptions): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const serial = ++this.serial;
    const frame = encodeCall(program, procedure, serial, args);
    // a reply after the timeout or abort finds no pending entry and is dropped
    return bounded<Buffer>({ timeoutMs: options.timeoutMs, signal: options.signal, onTimeout: () => timeoutError(options) }, ({ resolve, reject }) => {
      this.pending.set(serial, { resolve, reject, context: options.context });
      this.tap?.('out', frame);
      this.socket.write(frame);
      return () => this.pending.delete(serial);
    });
  }

  /** Closes the socket. Idempotent; pending calls reject. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new QksError('LIBVIRT_ERROR', 'the libvirt session was closed', { retryable: true }));
    this.socket.destroy();
  }

  get isOpen(): boolean {
    return !this.closed && !this.failure;
  }

  private onData(chunk: Buffer): void {
    this.tap?.('in', chunk);
    let messages: RpcMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (e) {
      this.fail(e as QksError);
      this.socket.destroy();
      return;
    }
    for (const m of messages) this.dispatch(m);
  }

  private dispatch(m: RpcMessage): void {
    // events (MESSAGE) and stream packets are not ours; replies to timed-out calls are dropped
    if (m.header.type !== MessageType.REPLY) return;
    const p = this.pending.get(m.header.serial);
    if (!p) return;
    this.pending.delete(m.header.serial);
    if (m.header.status === MessageStatus.OK) {
      p.resolve(m.body);
      return;
    }
    try {
      p.reject(libvirtErrorToQks(decodeRemoteError(m.body), p.context));
    } catch (e) {
      p.reject(e as QksError);
    }
  }

  private fail(e: QksError): void {
    this.failure ??= e;
    for (const [serial, p] of this.pending) {
      this.pending.delete(serial);
      p.reject(e);
    }
  }
}

function connectError(socketPath: string, e: NodeJS.ErrnoException): QksError {
  const details = { socketPath, errno: e.code };
  switch (e.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new QksError('LIBVIRT_NOT_RUNNING', `libvirtd is not running: ${socketPath}: ${e.code === 'ENOENT' ? 'no such socket' : 'connection refused'}`, {
        hint: 'Start libvirtd (systemctl start libvirtd, or virtqemud on modular hosts), or give the socket with ?socket= in --libvirt-uri.',
        details,
        cause: e,
      });
    case 'EACCES':
    case 'EPERM':
      return new QksError('LIBVIRT_AUTH', `permission denied opening libvirtd's socket ${socketPath}`, { hint: LIBVIRT_AUTH_HINT, details, cause: e });
    default:
      return new QksError('LIBVIRT_ERROR', `cannot connect to libvirtd's socket ${socketPath}: ${e.message}`, { details, cause: e, retryable: true });
  }
}

function timeoutError(o: CallOptions): QksError {
  const { operation, domain, command } = o.context;
  if (command) {
    return new QksError('AGENT_TIMEOUT', `no answer from the guest agent${domain ? ` of "${domain}"` : ''} through libvirtd within ${o.timeoutMs} ms (${command})`, {
      hint: 'The guest may be busy or its agent hung; try again with a longer --timeout.',
      details: { operation, command, timeoutMs: o.timeoutMs },
    });
  }
  return new QksError('LIBVIRT_TIMEOUT', `libvirtd did not answer ${operation} within ${o.timeoutMs} ms`, {
    hint: 'libvirtd is overloaded or hung, or polkit is slow to answer; check them.',
    details: { operation, timeoutMs: o.timeoutMs },
  });
}
