/**
 * The guest-sync handshake as a pure state machine: frames in, bytes to send and a verdict out.
 * No socket, no clock, no randomness (ids are passed in): src/agent/direct.ts does the I/O.
 *
 * qemu-ga's rule (QEMU's qga/qapi-schema.json, guest-sync-delimited): send 0xFF (it drops a half-read command), then guest-sync-delimited with
 * a fresh id; drop everything until the 0xFF that precedes `{"return": id}`. Agents without
 * guest-sync-delimited (CommandNotFound naming it) get plain guest-sync with a new id.
 * Messages before our sentinel are late replies to commands we gave up on (reported as `late`, so the
 * transport can free what they opened in the guest) or the agent's complaint about our 0xFF (noise).
 */
import type { QksError } from '../errors.js';
import { heldError, protocolError, timeoutError } from './errors.js';
import { encodeCommand, SENTINEL, type Frame } from './framing.js';

export interface HandshakeStep {
  /** Bytes to write now. */
  send?: Buffer;
  /** Synchronised: the next message is the answer to the next command. */
  done?: true;
  /** A message that came before our sentinel and is not noise: a late reply to an abandoned command. */
  late?: Record<string, unknown>;
}

export interface HandshakeContext {
  socketPath: string;
  channel?: string | undefined;
  /** A fresh connection: silence means the socket is held (SOCKET_HELD), not a stuck agent. */
  initial: boolean;
  /** Fresh ids, for the guest-sync fallback (direct.ts passes a random source). */
  nextId: () => number;
}

/** The agent's complaint about our own 0xFF flush byte (qemu-ga 7.2), and other parse errors of noise. */
function isFlushNoise(v: Record<string, unknown>): boolean {
  const e = v.error as { class?: unknown; desc?: unknown } | undefined;
  return !!e && typeof e === 'object' && e.class === 'GenericError' && typeof e.desc === 'string' && e.desc.startsWith('JSON parse error');
}

function isSyncNotFound(v: Record<string, unknown>): boolean {
  const e = v.error as { class?: unknown; desc?: unknown } | undefined;
  return !!e && typeof e === 'object' && e.class === 'CommandNotFound' && typeof e.desc === 'string' && e.desc.includes('guest-sync-delimited');
}

export class Handshake {
  private id = 0;
  private delimited = true;
  private sawSentinel = false;
  private garbage = 0;
  private messages = 0;
  private framesSeen = 0;
  private finished = false;

  constructor(private readonly ctx: HandshakeContext) {}

  /** The opening bytes: 0xFF, then guest-sync-delimited with `id`. */
  start(id: number): Buffer {
    this.id = id;
    return Buffer.concat([Buffer.of(SENTINEL), encodeCommand('guest-sync-delimited', { id })]);
  }

  get done(): boolean {
    return this.finished;
  }

  onFrame(f: Frame): HandshakeStep {
    if (this.finished) return {};
    this.framesSeen++;
    if (f.type === 'sentinel') {
      this.sawSentinel = true;
      return {};
    }
    if (f.type === 'garbage') {
      this.garbage += f.bytes;
      return {};
    }
    this.messages++;
    const v = f.value;
    if ('return' in v && v.return === this.id && (this.sawSentinel || !this.delimited)) {
      this.finished = true;
      return { done: true };
    }
    if (this.delimited && isSyncNotFound(v)) {
      // an agent without guest-sync-delimited (or with it blocked): plain guest-sync, a new id
      this.delimited = false;
      this.id = this.ctx.nextId();
      return { send: encodeCommand('guest-sync', { id: this.id }) };
    }
    // before our sentinel: a late reply (ours to clean up) unless it is noise or a stale sync answer
    if (!this.sawSentinel && !isFlushNoise(v) && !isSyncReply(v)) return { late: v };
    return {};
  }

  /**
   * The error when the bound runs out. `pendingBytes`: bytes the decoder holds that made no frame yet
   * (a half object, stray text): any byte at all means the peer is alive.
   */
  timeout(timeoutMs: number, pendingBytes: { buffered: number; garbage: number }): QksError {
    const details = { socketPath: this.ctx.socketPath, ...(this.ctx.channel ? { channel: this.ctx.channel } : {}) };
    const silent = this.framesSeen === 0 && pendingBytes.buffered === 0 && pendingBytes.garbage === 0;
    if (this.ctx.initial && silent) return heldError(this.ctx.socketPath, this.ctx.channel, timeoutMs);
    const garbage = this.garbage + pendingBytes.garbage;
    if (garbage > 0 && this.messages === 0) {
      return protocolError(`the peer on ${this.ctx.socketPath} answered the handshake with bytes that are not guest-agent JSON`, { ...details, garbageBytes: garbage });
    }
    return timeoutError(this.delimited ? 'guest-sync-delimited' : 'guest-sync', timeoutMs, details);
  }
}

/** `{"return": <integer>}` with nothing else: the answer to some earlier sync, not a command's reply we care about. */
function isSyncReply(v: Record<string, unknown>): boolean {
  return Object.keys(v).length === 1 && Number.isInteger(v.return) && (v.return as number) > 2 ** 32;
}
