/**
 * The guest agent's wire format, as a pure decoder: bytes in, messages out. No socket in sight.
 *
 * qemu-ga writes one JSON object per reply (followed by "\n", but we do not rely on that); a reply to
 * guest-sync-delimited is preceded by a 0xFF byte, which never occurs in UTF-8 text and so marks a
 * clean start. Before it there may be anything: a half-written reply left from an earlier client, the
 * agent's complaint about our own 0xFF flush byte, or garbage. The decoder reports each of those as an
 * item and leaves the decision (drop, or fail) to the handshake.
 */
import { protocolError } from './errors.js';

/** Replies larger than this are refused (PROTOCOL_ERROR), so a broken peer cannot make us buffer without end. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Deeper nesting than this (objects and arrays together) is refused before parsing: qemu-ga's replies
 * nest a few levels, and a hostile `[[[[…` would otherwise cost gigabytes in JSON.parse and the
 * validators after it.
 */
export const MAX_NESTING = 64;

export const SENTINEL = 0xff;

export type Frame =
  /** The 0xFF delimiter: whatever came before it is stale. */
  | { type: 'sentinel' }
  /** A complete JSON object. */
  | { type: 'message'; value: Record<string, unknown> }
  /** A balanced {...} that is not valid JSON (or not an object), or bytes outside any object. */
  | { type: 'garbage'; bytes: number; text: string };

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Incremental decoder. `push(chunk)` returns the frames completed by that chunk; state (a partial
 * object, string and escape state, brace depth) carries over, so any split of the stream gives the
 * same frames as the whole stream at once.
 */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private depth = 0;
  /** Objects and arrays open inside the current object (depth counts braces only, for framing). */
  private nesting = 0;
  private inString = false;
  private escaped = false;
  private garbage = 0;
  private garbageText = '';

  constructor(
    private readonly maxMessageBytes: number = MAX_MESSAGE_BYTES,
    private readonly maxNesting: number = MAX_NESTING,
  ) {}

  /** Bytes held for an unfinished object. */
  get buffered(): number {
    return this.partBytes;
  }

  /** Stray bytes seen since the last frame; reported as a garbage frame when the next frame starts. */
  get pendingGarbage(): number {
    return this.garbage;
  }

  /** Reports pending stray bytes now (at the end of a stream). */
  end(): Frame[] {
    const out: Frame[] = [];
    this.flushGarbage(out);
    return out;
  }

  push(chunk: Uint8Array): Frame[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Frame[] = [];
    let start = -1; // where the current object starts in this chunk, when it started here or earlier
    if (this.depth > 0) start = 0;
    // where the next quote, backslash and 0xFF are (searched on demand: 0 = not yet)
    let nextQuote = 0;
    let nextBackslash = 0;
    let nextSentinel = 0;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if (b === SENTINEL) {
        // resets everything, even inside an object: qemu-ga does the same with its input
        this.flushGarbage(out);
        this.resetObject();
        start = -1;
        out.push({ type: 'sentinel' });
        continue;
      }
      if (this.depth === 0) {
        if (b === OPEN) {
          this.flushGarbage(out);
          this.depth = 1;
          this.nesting = 1;
          start = i;
        } else if (!isWhitespace(b)) {
          this.garbage++;
          if (this.garbageText.length < 80) this.garbageText += String.fromCharCode(b);
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        else {
          // a plain run inside a string (a file's base64 is one): jump to the next byte that matters,
          // found natively, instead of a byte at a time; each search is cached until passed
          if (nextQuote <= i) nextQuote = indexOrEnd(buf, QUOTE, i);
          if (nextBackslash <= i) nextBackslash = indexOrEnd(buf, BACKSLASH, i);
          if (nextSentinel <= i) nextSentinel = indexOrEnd(buf, SENTINEL, i);
          i = Math.min(nextQuote, nextBackslash, nextSentinel) - 1;
        }
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_ARRAY) {
        if (++this.nesting > this.maxNesting) this.tooDeep();
      } else if (b === CLOSE_ARRAY) this.nesting = Math.max(1, this.nesting - 1);
      else if (b === OPEN) {
        this.depth++;
        if (++this.nesting > this.maxNesting) this.tooDeep();
      } else if (b === CLOSE && (this.nesting = Math.max(1, this.nesting - 1), --this.depth === 0)) {
        const piece = buf.subarray(start, i + 1);
        const whole = this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
        this.checkSize(whole.length);
        this.resetObject();
        start = -1;
        out.push(parse(whole));
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = buf.subarray(start);
      this.checkSize(this.partBytes + rest.length);
      // copy: the caller may reuse its chunk buffer
      this.parts.push(Buffer.from(rest));
      this.partBytes += rest.length;
    }
    return out;
  }

  private checkSize(n: number): void {
    if (n > this.maxMessageBytes) {
      this.resetObject();
      throw protocolError(`guest agent reply exceeds ${this.maxMessageBytes} bytes`, { maxMessageBytes: this.maxMessageBytes });
    }
  }

  private tooDeep(): never {
    this.resetObject();
    throw protocolError(`guest agent reply nests deeper than ${this.maxNesting} levels`, { maxNesting: this.maxNesting });
  }

  private resetObject(): void {
    this.parts = [];
    this.partBytes = 0;
    this.depth = 0;
    this.nesting = 0;
    this.inString = false;
    this.escaped = false;
  }

  private flushGarbage(out: Frame[]): void {
    if (this.garbage) {
      out.push({ type: 'garbage', bytes: this.garbage, text: this.garbageText });
      this.garbage = 0;
      this.garbageText = '';
    }
  }
}

/** The index of `byte` in `buf` from `from`, or buf.length when there is none. */
function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const j = buf.indexOf(byte, from);
  return j < 0 ? buf.length : j;
}

function parse(bytes: Buffer): Frame {
  const text = bytes.toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return { type: 'message', value: value as Record<string, unknown> };
  } catch {
    // falls through: a balanced but broken object is garbage, reported with a bounded excerpt
  }
  return { type: 'garbage', bytes: bytes.length, text: text.slice(0, 80) };
}

/** Decodes a whole byte string at once (tests, recorded traffic). */
export function decodeAll(data: Uint8Array, maxMessageBytes?: number, maxNesting?: number): Frame[] {
  const d = new FrameDecoder(maxMessageBytes, maxNesting);
  return [...d.push(data), ...d.end()];
}

/** Serialises one command as qemu-ga expects it (a JSON object; the newline is for humans reading traces). */
export function encodeCommand(command: string, args?: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args }) + '\n', 'utf8');
}
