/**
 * Stand-in for the project's one deadline helper (src/deadline.ts, being written for the agent path),
 * with the same names and signatures, so swapping is an import change: `startDeadline` (one budget for
 * several steps, with a signal that aborts when it runs out) and `sleep` (abortable).
 */
import { abortError } from '../errors.js';

export interface Deadline {
  readonly totalMs: number;
  /** Milliseconds left, possibly 0. */
  remaining(): number;
  readonly expired: boolean;
  /** Aborts when the budget runs out (reason: the deadline's error) or the caller's signal aborts. */
  readonly signal: AbortSignal;
  dispose(): void;
}

const clampMs = (ms: number) => Math.min(Math.max(0, ms), 2_147_483_647);

export function startDeadline(totalMs: number, options: { onTimeout: () => Error; signal?: AbortSignal | undefined }): Deadline {
  const end = performance.now() + totalMs;
  const controller = new AbortController();
  const parent = options.signal;
  const onParent = () => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  const timer = setTimeout(() => controller.abort(options.onTimeout()), clampMs(totalMs));
  const remaining = () => Math.max(0, Math.ceil(end - performance.now()));
  return {
    totalMs,
    remaining,
    get expired() {
      return remaining() <= 0;
    },
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}

/** Waits `ms`; rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
