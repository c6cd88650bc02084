/**
 * The one ssh runner: spawns the client, feeds stdin, collects output within a byte bound, and ends
 * the process on a timeout or an abort. Never leaves a process running; never throws for an exit
 * status (the caller classifies: src/ssh/failure.ts).
 */
import { spawn } from 'node:child_process';
import { abortError, type QksError } from '../errors.js';
import { sshNotRunnable, sshOutputTooLarge, sshTimeout } from './failure.js';
import type { CancelSignal } from '../cancel.js';

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  timeoutMs: number;
  signal?: CancelSignal;
  /** `user@host:port`, for messages. */
  where: string;
  /** What the run is for, for messages ("connect", "a remote command"). */
  what: string;
  /** Written to the process's stdin, then closed. Default: stdin is /dev/null. */
  stdin?: string;
  /** Stop (and reject with `tooLarge()`) past this many stdout bytes. */
  maxStdoutBytes?: number;
  tooLarge?: () => QksError;
}

const STDERR_KEEP = 64 * 1024;

export function runSsh(command: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal));
    const child = spawn(command, args, { stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: QksError | undefined;
    const stop = (err: QksError) => {
      failure ??= err;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(sshTimeout(opts.where, opts.what, opts.timeoutMs)),
      opts.timeoutMs,
    );
    const onAbort = () => stop(abortError(opts.signal!));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (d: Buffer) => {
      size += d.length;
      if (opts.maxStdoutBytes !== undefined && size > opts.maxStdoutBytes) {
        stop(opts.tooLarge?.() ?? sshOutputTooLarge(opts.where, opts.maxStdoutBytes!));
        return;
      }
      chunks.push(d);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < STDERR_KEEP) stderr += d;
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // ssh may exit before reading stdin (auth failure): its exit code says why
      child.stdin.end(opts.stdin);
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      failure ??= sshNotRunnable(command, e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve({ code, stdout: Buffer.concat(chunks), stderr });
    });
  });
}
