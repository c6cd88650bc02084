import type { Writable } from 'node:stream';
import { QksError, toQksError } from '../errors.js';

/** Failures of stdout streams (EPIPE, ENOSPC...), recorded by watchStdout: every Output over the stream sees them. */
const stdoutFailures = new WeakMap<Writable, QksError>();

/** The failure a write to `stream` met, if any. */
export function stdoutFailure(stream: Writable): QksError | undefined {
  return stdoutFailures.get(stream);
}

/**
 * Records write failures of stdout instead of letting them crash the process with a stack trace.
 * A reader that went away (EPIPE: `| head`) is STDOUT_CLOSED, exit 141 as for a tool killed by SIGPIPE,
 * so `set -o pipefail` sees the output was cut; anything else (a full disk) is STDOUT_FAILED.
 */
export function watchStdout(stream: Writable): void {
  stream.on('error', (e: NodeJS.ErrnoException) => recordFailure(stream, e));
}

function recordFailure(stream: Writable, e: NodeJS.ErrnoException | null | undefined): void {
  if (!e || stdoutFailures.has(stream)) return;
  stdoutFailures.set(
    stream,
    e.code === 'EPIPE'
      ? new QksError('STDOUT_CLOSED', 'stdout was closed before all output was written (EPIPE)', { hint: 'Whatever read the output stopped early.', details: { errno: e.code } })
      : new QksError('STDOUT_FAILED', `cannot write to stdout: ${e.message}`, { hint: e.code === 'ENOSPC' ? 'The disk is full.' : 'Check where stdout goes.', details: { errno: e.code } }),
  );
}

/** Waits (bounded) until what was written to `stream` is handed to the OS, so a late failure is seen before exit. */
export async function flushStdout(stream: Writable, timeoutMs = STDOUT_FLUSH_TIMEOUT_MS): Promise<void> {
  // a failed write marks the stream at once but reports on the next tick, which a chain of awaits outruns
  await new Promise((r) => setImmediate(r));
  recordFailure(stream, stream.errored as NodeJS.ErrnoException | null);
  if (stdoutFailures.has(stream) || stream.destroyed || !stream.writable) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    stream.write('', (e) => {
      recordFailure(stream, e);
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How long the end of a command waits for stdout to take its last bytes. */
const STDOUT_FLUSH_TIMEOUT_MS = 2000;

/** The global flags every verb shares. */
export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}

export interface OutputStreams {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
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
  readonly color: boolean;
  private progressShown = false;

  constructor(
    flags: GlobalFlags,
    private readonly streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr },
  ) {
    const env = streams.env ?? process.env;
    this.json = !!flags.json;
    this.quiet = !!flags.quiet;
    this.verboseOn = !!flags.verbose && !flags.quiet;
    this.color = flags.color !== false && !!streams.stderr.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
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
    const stdout = this.streams.stdout;
    if (stdoutFailures.has(stdout)) return;
    stdout.write(data, (e) => recordFailure(stdout, e));
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
