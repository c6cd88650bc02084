/**
 * The XDR subset libvirt's RPC uses (RFC 4506): 32-bit big-endian ints, variable strings and opaques
 * padded to 4 bytes, fixed opaques, and "optional" values (`type *name`: a bool then the value).
 * Pure: bytes in, values out. The only code in libvirt-rpc/ that touches offsets.
 */
import { fixedOpaqueLength, malformedMessage } from './errors.js';

/** libvirt's bound on strings (VIR_NET_MESSAGE_STRING_MAX), so a bad length cannot make us allocate. */
export const XDR_STRING_MAX = 4_194_304;

const pad = (n: number): number => (4 - (n % 4)) % 4;


export class XdrWriter {
  private chunks: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): this {
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }

  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.push(b);
  }

  uint(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return this.push(b);
  }

  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }

  /** Variable-length opaque: length, bytes, zero padding. */
  opaque(data: Uint8Array): this {
    this.uint(data.length);
    this.push(Buffer.from(data));
    return this.push(Buffer.alloc(pad(data.length)));
  }

  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }

  /** Fixed-length opaque (e.g. a 16-byte UUID): bytes and padding, no length. */
  fixedOpaque(data: Uint8Array, length: number): this {
    if (data.length !== length) throw fixedOpaqueLength(data.length, length);
    this.push(Buffer.from(data));
    return this.push(Buffer.alloc(pad(length)));
  }

  /** An XDR optional (`T *`): false, or true followed by the value. */
  optional<T>(value: T | null | undefined, write: (w: this, v: T) => unknown): this {
    if (value === null || value === undefined) return this.bool(false);
    this.bool(true);
    write(this, value);
    return this;
  }

  get length(): number {
    return this.size;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

export class XdrReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
  ) {
    this.pos = offset;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n) throw malformedMessage(`${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
  }

  int(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4, 'unsigned int');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw malformedMessage(`bool is ${v}`);
    return v === 1;
  }

  opaque(max = XDR_STRING_MAX): Buffer {
    const n = this.uint();
    if (n > max) throw malformedMessage(`length ${n} exceeds ${max}`);
    this.need(n + pad(n), 'opaque');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n + pad(n);
    return Buffer.from(v);
  }

  string(max = XDR_STRING_MAX): string {
    return this.opaque(max).toString('utf8');
  }

  fixedOpaque(length: number): Buffer {
    this.need(length + pad(length), 'fixed opaque');
    const v = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length + pad(length);
    return Buffer.from(v);
  }

  optional<T>(read: (r: this) => T): T | null {
    return this.bool() ? read(this) : null;
  }

  /** Variable-length array: count, then each element. */
  array<T>(read: (r: this) => T, max: number): T[] {
    const n = this.uint();
    if (n > max) throw malformedMessage(`array of ${n} exceeds ${max}`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this));
    return out;
  }

  /** Throws when bytes are left over: a body longer than its type means we misread it. */
  end(what: string): void {
    if (this.remaining !== 0) throw malformedMessage(`${this.remaining} bytes left after ${what}`);
  }
}
