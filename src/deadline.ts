/**
 * The one deadline helper: a timer, the caller's abort signal, and cleanup, in one place. Every bounded
 * wait in the agent path goes through `bounded` (one wait) or `startDeadline` (several steps sharing
 * one budget). The clock is read only here.
 */
import type { CancelSignal } from './cancel.js';
import { abortError } from './errors.js';

/**
 * A monotonic clock in ms, as performance.now() but without it: the `performance` global loads
 * node:perf_hooks on first use (~1 ms of a start, bench/startup.md).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Settles a `bounded` wait from inside: resolve/reject as a Promise executor would. */
export type Settle<T> = { resolve(v: T): void; reject(e: unknown): void };

export interface BoundOptions {
  /** The bound, in ms. */
  timeoutMs: number;
  /** The error the wait rejects with when the bound runs out. */
  onTimeout: () => Error;
  /** Stops the wait early: rejects with the signal's QksError reason, else INTERRUPTED. */
  signal?: CancelSignal | undefined;
  /** Runs once before a timeout or abort rejects (e.g. mark a connection for resync). */
  onCancel?: (why: 'timeout' | 'abort') => void;
}

/**
 * A Promise settled by the first of: `start` resolving or rejecting it, the timer, the signal.
 * `start` may return a cleanup function; it runs exactly once, whatever settled the wait.
 */
export function bounded<T>(options: BoundOptions, start: (settle: Settle<T>) => (() => void) | void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) return reject(abortError(signal));
    let done = false;
    let cleanup: (() => void) | void = undefined;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        cleanup?.();
      } finally {
        f();
      }
    };
    const onAbort = () => finish(() => (options.onCancel?.('abort'), reject(abortError(signal!))));
    const timer = setTimeout(() => finish(() => (options.onCancel?.('timeout'), reject(options.onTimeout()))), clampMs(options.timeoutMs));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start({ resolve: (v) => finish(() => resolve(v)), reject: (e) => finish(() => reject(e)) });
    } catch (e) {
      finish(() => reject(e));
    }
    // settled synchronously inside start: the cleanup it returned still has to run
    if (done && cleanup) {
      const c = cleanup;
      cleanup = undefined;
      c();
    }
  });
}

/** Waits `ms`; rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: CancelSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, clampMs(ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One budget shared by the steps of an operation. */
export interface Deadline {
  readonly totalMs: number;
  /** Milliseconds left (at least 1); throws the deadline's error when nothing is left. */
  left(): number;
  /** Milliseconds left, possibly 0; never throws. */
  remaining(): number;
  readonly expired: boolean;
  /** Aborts when the budget runs out (reason: the deadline's error) or the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** Releases the timer and the listener on the caller's signal. Idempotent. */
  dispose(): void;
}

/**
 * The signal (an AbortController, its timer and a listener on the caller's signal) is made on first use:
 * most deadlines are only asked left(), a few times per command, and building it for each cost every
 * agent command a few microseconds (bench/agent.bench.ts); a class, not closures, for the same reason.
 * Made late, the signal is already aborted when the budget or the caller's signal has run out; made
 * after dispose(), it is as an eager one would be then: aborted only if either ran out before dispose.
 */
export function startDeadline(totalMs: number, options: { onTimeout: () => Error; signal?: CancelSignal | undefined }): Deadline {
  return new LazyDeadline(totalMs, options.onTimeout, options.signal);
}

class LazyDeadline implements Deadline {
  private readonly end: number;
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private onParent: (() => void) | undefined;

  constructor(
    readonly totalMs: number,
    private readonly onTimeout: () => Error,
    private readonly parent: CancelSignal | undefined,
  ) {
    this.end = monotonicMs() + totalMs;
  }

  remaining(): number {
    return Math.max(0, Math.ceil(this.end - monotonicMs()));
  }

  left(): number {
    const ms = this.remaining();
    if (ms <= 0) throw this.onTimeout();
    return ms;
  }

  get expired(): boolean {
    return this.remaining() <= 0;
  }

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = (this.controller = new AbortController());
    const parent = this.parent;
    if (this.disposed) return controller.signal;
    if (parent?.aborted) controller.abort(parent.reason);
    else if (this.remaining() <= 0) controller.abort(this.onTimeout());
    else {
      if (parent) {
        this.onParent = () => controller.abort(parent.reason);
        parent.addEventListener('abort', this.onParent, { once: true });
      }
      this.timer = setTimeout(() => controller.abort(this.onTimeout()), clampMs(this.end - monotonicMs()));
    }
    return controller.signal;
  }

  dispose(): void {
    if (this.disposed) return;
    if (!this.controller && (this.parent?.aborted || this.remaining() <= 0)) void this.signal;
    this.disposed = true;
    clearTimeout(this.timer);
    if (this.onParent) this.parent?.removeEventListener('abort', this.onParent);
  }
}

/** Jittered exponential backoff: attempt n's pause (0-based), between half and all of first·2^n capped at max. */
export function backoffMs(attempt: number, retry: { firstMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxMs, retry.firstMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

/** Node's timers fire at once beyond 2^31-1 ms: clamp rather than surprise. */
function clampMs(ms: number): number {
  return Math.min(Math.max(0, ms), 2_147_483_647);
}
