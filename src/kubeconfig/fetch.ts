/**
 * Getting the kubeconfig's bytes out of the VM: through the guest agent (file read when the agent has
 * guest-file-* enabled, else exec of cat, decided from guest-info) or over SSH; and `--wait`, which
 * retries what waiting can fix (agent not up, socket missing, file not written yet) until a deadline.
 */
import pRetry from 'p-retry';
import { monotonicMs } from '../deadline.js';
import { Cancellation, platformSignal, type CancelSignal } from '../cancel.js';
import { abortError, isQksError, type QksError } from '../errors.js';
import type { AgentClient } from '../agent/client.js';
import type { AgentTarget } from '../agent/connect.js';
import type { TransportInfo } from '../agent/transport.js';
import { TIMEOUTS } from '../timeouts.js';
import { agentCannotReadFiles, kubeconfigDenied, kubeconfigNotYet, kubeconfigTooLarge, waitTimedOut } from './errors.js';
import type { SshTarget } from './ssh.js';

/** How the bytes were read: guest-file-open/read, guest-exec of cat, or ssh. */
export type ReadMethod = 'file-read' | 'exec' | 'ssh';

/** The part of AgentClient this module uses (tests pass stubs of this shape). */
export type AgentLike = Pick<AgentClient, 'transportInfo' | 'info' | 'readFile' | 'close'>;
export type OpenAgent = (target: AgentTarget, options?: { signal?: CancelSignal }) => Promise<AgentLike>;

export interface Fetched {
  data: Buffer;
  method: ReadMethod;
  transport?: TransportInfo;
  agentVersion?: string;
}

const FILE_READ = ['guest-file-open', 'guest-file-read', 'guest-file-close'];
const EXEC = ['guest-exec', 'guest-exec-status'];

/** Which way to read, from guest-info's `enabled` flags: no trial and error. */
export function chooseReadMethod(commands: ReadonlyArray<{ name: string; enabled: boolean }>): 'file-read' | 'exec' | undefined {
  const on = new Set(commands.filter((c) => c.enabled).map((c) => c.name));
  if (FILE_READ.every((c) => on.has(c))) return 'file-read';
  if (EXEC.every((c) => on.has(c))) return 'exec';
  return undefined;
}

/** A guest-side failure message (file open, cat's stderr) as the error that says what to do. */
export function guestFileError(path: string, message: string, cause?: unknown): QksError | undefined {
  if (/No such file|ENOENT/i.test(message)) return kubeconfigNotYet(path, { cause });
  if (/Permission denied|EACCES/i.test(message)) return kubeconfigDenied(path, 'the guest agent', 'qemu-ga runs without root in this guest, or SELinux confines it; run it as root.', { cause });
  return undefined;
}

/** One attempt through the guest agent. */
export async function fetchViaAgent(
  openAgent: OpenAgent,
  target: AgentTarget,
  remotePath: string,
  opts: { maxBytes: number; signal?: CancelSignal },
): Promise<Fetched> {
  const client = await openAgent(target, { signal: opts.signal });
  try {
    const info = await client.info();
    const method = chooseReadMethod(info.commands);
    if (!method) {
      throw agentCannotReadFiles(info.version);
    }
    let data: Buffer;
    try {
      // one byte past the bound, so an oversized file is seen as such rather than cut
      data = await client.readFile(remotePath, { method: method === 'file-read' ? 'file' : 'exec', maxBytes: opts.maxBytes, signal: opts.signal });
    } catch (e) {
      if (isQksError(e, 'GUEST_FILE_TOO_LARGE')) throw kubeconfigTooLarge(opts.maxBytes);
      throw (isQksError(e, 'COMMAND_FAILED') && guestFileError(remotePath, String(e.details.desc ?? e.details.stderr ?? e.message), e)) || e;
    }
    return { data, method, transport: client.transportInfo, agentVersion: info.version };
  } finally {
    await client.close();
  }
}

/** One attempt over SSH. */
export async function fetchViaSsh(target: SshTarget, remotePath: string, opts: { maxBytes: number; signal?: CancelSignal }): Promise<Fetched> {
  // loaded for an SSH read only: an agent read compiles no SSH code (bench/startup.md).
  // sshReadFile itself refuses (KUBECONFIG_INVALID) a file past the bound: nothing is cut
  const { sshReadFile } = await import('./ssh.js');
  const data = await sshReadFile(target, remotePath, { maxBytes: opts.maxBytes, signal: opts.signal });
  return { data, method: 'ssh' };
}

export interface WaitOptions {
  /** Retry retryable errors until `timeoutMs`; otherwise one attempt. */
  wait: boolean;
  timeoutMs: number;
  /** What is waited for, for messages: e.g. `the kubeconfig of VM kubesolo`. */
  what: string;
  signal?: CancelSignal;
  /** Called after each failed attempt while waiting (elapsed ms, the error). */
  onProgress?: (elapsedMs: number, last: QksError) => void;
  /** Longest pause between attempts. Default 500 ms: with an attempt's own few ms, the file is seen within a second. */
  maxDelayMs?: number;
}

/**
 * Runs `attempt` once, or with `wait` until it succeeds, fails with an error waiting cannot fix, or
 * `timeoutMs` passes (WAIT_TIMEOUT naming what it last saw). Each attempt gets a signal that aborts at the
 * deadline or on the caller's signal.
 */
export async function withWait<T>(attempt: (signal: CancelSignal) => Promise<T>, opts: WaitOptions): Promise<T> {
  const started = monotonicMs();
  // the deadline or the caller's signal: a Cancellation rather than AbortSignal.any of two controllers
  // (~1 ms of a start, bench/startup.md round 9); p-retry, which needs the platform's, gets one for --wait
  const signal = new Cancellation();
  let expired = false;
  const timer = setTimeout(() => ((expired = true), signal.abort(undefined)), opts.timeoutMs);
  const parent = opts.signal;
  const onParent = () => signal.abort(parent!.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  let last: QksError | undefined;
  // an attempt stuck in I/O must not outlive the deadline: race it against the signal
  const bounded = () =>
    new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      attempt(signal).then(
        (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
        (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  try {
    if (!opts.wait) return await bounded();
    return await pRetry(bounded, {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: TIMEOUTS.waitRetry.firstMs,
      factor: 1.5,
      maxTimeout: opts.maxDelayMs ?? TIMEOUTS.waitRetry.maxMs,
      maxRetryTime: opts.timeoutMs,
      signal: platformSignal(signal),
      unref: true,
      shouldRetry: ({ error }) => isQksError(error) && error.retryable,
      onFailedAttempt: ({ error }) => {
        if (!isQksError(error) || !error.retryable) return;
        last = error;
        opts.onProgress?.(monotonicMs() - started, error);
      },
    });
  } catch (e) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const err = isQksError(e) ? e : undefined;
    const timedOut = expired || (opts.wait && err?.retryable && monotonicMs() - started >= opts.timeoutMs);
    if (timedOut) {
      throw waitTimedOut(opts.what, opts.timeoutMs, err ?? last);
    }
    throw e;
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParent);
  }
}
