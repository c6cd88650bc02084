/**
 * One connection to libvirtd's RPC socket: sends calls, matches replies by serial, bounds every wait.
 * The I/O edge of libvirt-rpc/: framing, XDR and the protocol are pure modules beside it.
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { bounded } from '../../deadline.js';
import type { CancelSignal } from '../../cancel.js';
import type { QksError } from '../../errors.js';
import { callTimeout, connectTimeout, libvirtErrorToQks, sessionClosed, sessionClosedByPeer, sessionError, socketConnectError, type ErrorContext } from './errors.js';
import { MessageDecoder, MessageStatus, MessageType, type RpcMessage } from './framing.js';
import { decodeRemoteError, encodeCall } from './protocol.js';
import type { XdrWriter } from './xdr.js';

export interface CallOptions {
  timeoutMs: number;
  /** What the call is for: names it in errors and decides how libvirt errors map. */
  context: ErrorContext;
  /** Stops waiting (Ctrl-C); a late reply is dropped. */
  signal?: CancelSignal;
}

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (e: QksError) => void;
  context: ErrorContext;
}

/** The stream under a session ended by the peer: closed, or failed with an OS or TLS error. */
export type StreamEnd = { kind: 'closed' } | { kind: 'error'; error: NodeJS.ErrnoException };

/** Observes raw bytes (tests record fixtures with it). */
export type TrafficTap = (direction: 'out' | 'in', chunk: Buffer) => void;

export class LibvirtSession {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly decoder = new MessageDecoder();
  private failure: QksError | undefined;
  private closed = false;
  private ended: StreamEnd | undefined;

  private constructor(
    private readonly socket: Duplex,
    /** The local socket, or a label for another byte stream (an SSH hop, a TLS connection). */
    readonly socketPath: string,
    private readonly tap?: TrafficTap,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => this.endBy({ kind: 'error', error: e }, sessionError(socketPath, e)));
    socket.on('close', () => this.endBy({ kind: 'closed' }, sessionClosedByPeer(socketPath)));
  }

  /** Connects to the socket within `timeoutMs`. ENOENT/ECONNREFUSED: LIBVIRT_NOT_RUNNING; EACCES: LIBVIRT_AUTH. */
  static connect(socketPath: string, options: { timeoutMs: number; signal?: CancelSignal; tap?: TrafficTap }): Promise<LibvirtSession> {
    const onTimeout = () => connectTimeout(socketPath, options.timeoutMs);
    return bounded<LibvirtSession>({ timeoutMs: options.timeoutMs, signal: options.signal, onTimeout }, ({ resolve, reject }) => {
      const socket = connect(socketPath);
      let connected = false;
      const onConnect = () => {
        connected = true;
        resolve(new LibvirtSession(socket, socketPath, options.tap));
      };
      const onError = (e: NodeJS.ErrnoException) => reject(socketConnectError(socketPath, e));
      socket.once('connect', onConnect);
      socket.once('error', onError);
      return () => {
        socket.off('error', onError);
        socket.off('connect', onConnect);
        if (!connected) socket.destroy();
      };
    });
  }

  /**
   * A session over a byte stream that is already connected (libvirt's remote helper on an SSH
   * channel's stdio, a TLS socket): the same RPC as on the local socket. `label` names it in errors.
   */
  static over(stream: Duplex, label: string, tap?: TrafficTap): LibvirtSession {
    return new LibvirtSession(stream, label, tap);
  }

  /** Sends one call and resolves with the reply body; a libvirt error rejects as a mapped QksError. */
  call(program: number, procedure: number, args: XdrWriter | undefined, options: CallOptions): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const serial = ++this.serial;
    const frame = encodeCall(program, procedure, serial, args);
    // a reply after the timeout or abort finds no pending entry and is dropped
    return bounded<Buffer>({ timeoutMs: options.timeoutMs, signal: options.signal, onTimeout: () => callTimeout(options.context, options.timeoutMs) }, ({ resolve, reject }) => {
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
    this.fail(sessionClosed());
    this.socket.destroy();
  }

  get isOpen(): boolean {
    return !this.closed && !this.failure;
  }

  /**
   * How the other end stopped the session, when that is what failed it (not our destroy(), a timeout or
   * a libvirt error): carriers tell a refusal or a dead helper by it (src/remote/tls.ts, libvirtd.ts).
   */
  get streamEnd(): StreamEnd | undefined {
    return this.ended;
  }

  private endBy(end: StreamEnd, e: QksError): void {
    if (!this.closed && !this.failure) this.ended = end;
    this.fail(e);
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
