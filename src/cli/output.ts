import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { toQksError, type QksError } from '../errors.js';
import { TIMEOUTS } from '../timeouts.js';
import { stdoutClosed, stdoutFailed } from './errors.js';

/** Where Output writes: a Node Writable (tests: in-memory ones), or an FdWriter. */
export interface Sink {
  write(data: string | Uint8Array, cb?: (e?: Error | null) => void): unknown;
  readonly isTTY?: boolean | undefined;
}

/**
 * stdout or stderr written with fs.writeSync, without Node's stream for it: process.stdout/stderr build a
 * pipe socket or a SyncWriteStream on first use, ~1-8 ms of a start (bench/startup.md), and on Linux Node
 * writes pipes, files and terminals synchronously anyway. A descriptor left non-blocking by whoever
 * gave it to us (EAGAIN) is handed to Node's stream from then on, which waits for it.
 */
export class FdWriter implements Sink {
  private stream: Writable | undefined;
  private tty: boolean | undefined;
  /** Gets errors of the Node stream handed over to (after EAGAIN); writes report theirs to their callback. */
  onStreamError: (e: NodeJS.ErrnoException) => void = () => {};

  constructor(
    private readonly fd: number,
    private readonly nodeStream: () => Writable,
  ) {}

  get isTTY(): boolean {
    return (this.tty ??= isatty(this.fd));
  }

  /** The Node stream written to since an EAGAIN, if any (flushStdout waits for it). */
  get handedOver(): Writable | undefined {
    return this.stream;
  }

  write(data: string | Uint8Array, cb?: (e?: Error | null) => void): boolean {
    if (this.stream) return this.stream.write(data, cb);
    let buf = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      while (buf.length) buf = buf.subarray(writeSync(this.fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
        cb?.(e as Error);
        return false;
      }
      this.stream = this.nodeStream();
      this.stream.on('error', (err: NodeJS.ErrnoException) => this.onStreamError(err));
      return this.stream.write(buf, cb);
    }
    cb?.(null);
    return true;
  }
}

/** The process's stdout and stderr, as every Output and the entry (src/cli/bin.ts) write them. */
export const stdout = new FdWriter(1, () => process.stdout);
export const stderr = new FdWriter(2, () => process.stderr);

/** Failures of stdout (EPIPE, ENOSPC...), recorded by watchStdout and by writes: every Output over it sees them. */
const stdoutFailures = new WeakMap<Sink, QksError>();

/** The failure a write to `sink` met, if any. */
export function stdoutFailure(sink: Sink): QksError | undefined {
  return stdoutFailures.get(sink);
}

/**
 * Records write failures of stdout instead of letting them crash the process with a stack trace.
 * A reader that went away (EPIPE: `| head`) is STDOUT_CLOSED, exit 141 as for a tool killed by SIGPIPE,
 * so `set -o pipefail` sees the output was cut; anything else (a full disk) is STDOUT_FAILED.
 */
export function watchStdout(sink: Sink): void {
  if (sink instanceof FdWriter) sink.onStreamError = (e) => recordFailure(sink, e);
  else (sink as Writable).on('error', (e: NodeJS.ErrnoException) => recordFailure(sink, e));
}

/** Writes to `sink` and records a failure (see watchStdout); `onFailure` runs when this write failed. */
export function writeStdout(sink: Sink, data: string | Uint8Array, onFailure?: () => void): void {
  if (stdoutFailures.has(sink)) return;
  sink.write(data, (e) => {
    recordFailure(sink, e);
    if (e) onFailure?.();
  });
}

/** Records a failed write to `sink` made elsewhere (src/cli/bin.ts writes `--version` itself). */
export function noteStdoutFailure(sink: Sink, e: NodeJS.ErrnoException): void {
  recordFailure(sink, e);
}

function recordFailure(sink: Sink, e: NodeJS.ErrnoException | null | undefined): void {
  if (!e || stdoutFailures.has(sink)) return;
  stdoutFailures.set(
    sink,
    e.code === 'EPIPE' ? stdoutClosed(e.code) : stdoutFailed(e),
  );
}

/** Waits (bounded) until what was written to `sink` is handed to the OS, so a late failure is seen before exit. */
export async function flushStdout(sink: Sink, timeoutMs = TIMEOUTS.stdoutFlushMs): Promise<void> {
  // an FdWriter wrote synchronously: its failures are recorded already, unless it handed over to a stream
  const stream = sink instanceof FdWriter ? sink.handedOver : (sink as Writable);
  if (!stream) return;
  // a failed write marks the stream at once but reports on the next tick, which a chain of awaits outruns
  await new Promise((r) => setImmediate(r));
  recordFailure(sink, stream.errored as NodeJS.ErrnoException | null);
  if (stdoutFailures.has(sink) || stream.destroyed || !stream.writable) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    stream.write('', (e) => {
      recordFailure(sink, e);
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The global flags every verb shares. */
export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

export interface OutputStreams {
  stdout: Sink;
  stderr: Sink;
  env?: NodeJS.ProcessEnv;
}

/**
 * Where a verb's words go. Results go to stdout (JSON with --json, text otherwise); logs, progress
 * and errors go to stderr, so `--output -` and `--json` stay clean for pipes. Colour only on a TTY and
 * never with NO_COLOR or --no-color.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verboseOn: boolean;
  private progressShown = false;
  private colorOn: boolean | undefined;

  constructor(
    private readonly flags: GlobalFlags,
    private readonly streams: OutputStreams = { stdout, stderr },
  ) {
    this.json = !!flags.json;
    this.quiet = !!flags.quiet;
    this.verboseOn = !!flags.verbose && !flags.quiet;
  }

  /** Colour: stderr is a terminal (asked on first need: node:tty costs a start ~1-3 ms), no NO_COLOR, --no-color or TERM=dumb. */
  get color(): boolean {
    const env = this.streams.env ?? process.env;
    return (this.colorOn ??= this.flags.color !== false && env.NO_COLOR === undefined && env.TERM !== 'dumb' && !!this.streams.stderr.isTTY);
  }

  private paint(code: string, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }

  private line(s: string): void {
    this.clearProgress();
    this.streams.stderr.write(s + '\n');
  }

  /** A step the user should see (suppressed by --quiet). */
  info(message: string): void {
    if (!this.quiet) this.line(message);
  }

  /** Detail for --verbose. */
  verbose(message: string): void {
    if (this.verboseOn) this.line(this.paint('2', message));
  }

  /** Something the user should know even with --quiet. */
  warn(message: string): void {
    this.line(this.paint('33', `warning: ${message}`));
  }

  /** A transient status line for long waits; only on a TTY, overwritten in place. */
  progress(message: string): void {
    if (this.quiet || !this.streams.stderr.isTTY) return;
    this.streams.stderr.write(`\r\x1b[K${message}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (this.progressShown) {
      this.streams.stderr.write('\r\x1b[K');
      this.progressShown = false;
    }
  }

  /** Writes to stdout unless it already failed (then the failure decides the exit status: see watchStdout). */
  private out(data: string | Uint8Array): void {
    writeStdout(this.streams.stdout, data);
  }

  /** The verb's result: `value` as one JSON line with --json, else `text` (if any) on stdout. */
  result(value: unknown, text?: string): void {
    this.clearProgress();
    if (this.json) this.out(JSON.stringify(value) + '\n');
    else if (text !== undefined && text !== '') this.out(text.endsWith('\n') ? text : text + '\n');
  }

  /** Raw bytes for stdout (e.g. `--output -`). */
  raw(data: string | Uint8Array): void {
    this.clearProgress();
    this.out(data);
  }

  /**
   * Reports a failure: JSON on stdout with --json (wrappers parse one stream), text on stderr always.
   * When stdout itself failed, the JSON goes to stderr: the one stream left.
   */
  error(e: unknown): QksError {
    const err = toQksError(e);
    if (this.json) (stdoutFailures.has(this.streams.stdout) ? this.streams.stderr : this.streams.stdout).write(JSON.stringify({ ok: false, error: err.toJSON() }) + '\n');
    this.line(`${this.paint('31', 'error:')} ${err.message} [${err.code}]`);
    if (err.hint) this.line(`  ${err.hint}`);
    if (this.verboseOn && err.code === 'INTERNAL' && err.cause instanceof Error && err.cause.stack) this.line(err.cause.stack);
    return err;
  }
}
