import type { Writable } from 'node:stream';
import { QksError, toQksError } from '../errors.js';

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

  /** The verb's result: `value` as one JSON line with --json, else `text` (if any) on stdout. */
  result(value: unknown, text?: string): void {
    this.clearProgress();
    if (this.json) this.streams.stdout.write(JSON.stringify(value) + '\n');
    else if (text !== undefined && text !== '') this.streams.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** Raw bytes for stdout (e.g. `--output -`). */
  raw(data: string | Uint8Array): void {
    this.clearProgress();
    this.streams.stdout.write(data);
  }

  /** Reports a failure: JSON on stdout with --json (wrappers parse one stream), text on stderr always. */
  error(e: unknown): QksError {
    const err = toQksError(e);
    if (this.json) this.streams.stdout.write(JSON.stringify({ ok: false, error: err.toJSON() }) + '\n');
    this.line(`${this.paint('31', 'error:')} ${err.message} [${err.code}]`);
    if (err.hint) this.line(`  ${err.hint}`);
    if (this.verboseOn && err.code === 'INTERNAL' && err.cause instanceof Error && err.cause.stack) this.line(err.cause.stack);
    return err;
  }
}
