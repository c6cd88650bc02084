/**
 * libvirt RPC message framing (libvirt src/rpc/virnetprotocol.x): each message is a 4-byte big-endian
 * length that counts itself, a 24-byte header of six XDR words, then the XDR body.
 * Pure: `encodeMessage` makes bytes, `MessageDecoder` turns chunks split anywhere into messages.
 */
import { malformedMessage } from './errors.js';
import { XdrReader, XdrWriter } from './xdr.js';

/** Size of the length word (VIR_NET_MESSAGE_LEN_MAX). */
export const LEN_SIZE = 4;
/** Size of the serialised header (VIR_NET_MESSAGE_HEADER_MAX). */
export const HEADER_SIZE = 24;
/** Largest message libvirt sends, length word excluded (VIR_NET_MESSAGE_MAX). */
export const MESSAGE_MAX = 16_777_216;

export const MessageType = { CALL: 0, REPLY: 1, MESSAGE: 2, STREAM: 3, CALL_WITH_FDS: 4, REPLY_WITH_FDS: 5 } as const;
export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

export interface MessageHeader {
  program: number;
  version: number;
  procedure: number;
  type: number;
  serial: number;
  status: number;
}

export interface RpcMessage {
  header: MessageHeader;
  /** The XDR body: call args, reply ret, remote_error or event payload. */
  body: Buffer;
}

export function encodeMessage(header: MessageHeader, body: Uint8Array = Buffer.alloc(0)): Buffer {
  const w = new XdrWriter()
    .uint(LEN_SIZE + HEADER_SIZE + body.length)
    .uint(header.program)
    .uint(header.version)
    .int(header.procedure)
    .int(header.type)
    .uint(header.serial)
    .int(header.status);
  return Buffer.concat([w.toBuffer(), body]);
}

/** Decodes one whole message (length word included). */
export function decodeMessage(frame: Buffer): RpcMessage {
  const r = new XdrReader(frame);
  const len = r.uint();
  if (len !== frame.length) throw malformedMessage(`length word says ${len}, frame has ${frame.length} bytes`);
  const header: MessageHeader = {
    program: r.uint(),
    version: r.uint(),
    procedure: r.int(),
    type: r.int(),
    serial: r.uint(),
    status: r.int(),
  };
  return { header, body: frame.subarray(LEN_SIZE + HEADER_SIZE) };
}


/**
 * Accumulates bytes from a stream and yields whole messages, however the stream was split.
 * A length outside [28, 4 + MESSAGE_MAX] throws: the stream is then unusable.
 */
export class MessageDecoder {
  private pending: Buffer[] = [];
  private pendingSize = 0;

  push(chunk: Uint8Array): RpcMessage[] {
    if (chunk.length) {
      this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.pendingSize += chunk.length;
    }
    const out: RpcMessage[] = [];
    for (;;) {
      if (this.pendingSize < LEN_SIZE) break;
      const head = this.peek(LEN_SIZE);
      const len = head.readUInt32BE(0);
      if (len < LEN_SIZE + HEADER_SIZE || len > LEN_SIZE + MESSAGE_MAX) throw malformedMessage(`length ${len} out of range`);
      if (this.pendingSize < len) break;
      out.push(decodeMessage(this.take(len)));
    }
    return out;
  }

  /** Bytes received but not yet part of a whole message. */
  get buffered(): number {
    return this.pendingSize;
  }

  private peek(n: number): Buffer {
    if (this.pending[0]!.length < n) this.pending = [Buffer.concat(this.pending, this.pendingSize)];
    return this.pending[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingSize);
    const frame = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingSize = rest.length;
    return frame;
  }
}
