/**
 * Cancellation without Node's EventTarget: the signal type our waits take (src/deadline.ts), the CLI's
 * command signal (src/cli/session.ts), and a real AbortSignal for the platform APIs that need one.
 */
/**
 * What our waits need of a cancellation signal; an AbortSignal is one. The CLI's command signal is a
 * Cancellation (below): Node's AbortController and EventTarget cost a command ~1 ms the first time they
 * are used (bench/startup.md, round 9), and only our own code listens to it. A platform API that needs a
 * real AbortSignal gets one from platformSignal().
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A CancelSignal and its abort(), as AbortController and its signal in one. As with AbortSignal: a
 * listener is called once, in the order added, synchronously inside abort(); one added twice is called
 * once; abort() after the first does nothing; a listener that throws does not stop the others.
 */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private readonly listeners = new Set<() => void>();

  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.aborted) this.listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.delete(listener);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    // a listener removed by an earlier one is not called, as with EventTarget
    for (const f of [...this.listeners]) {
      if (!this.listeners.delete(f)) continue;
      try {
        f();
      } catch (e) {
        queueMicrotask(() => {
          throw e; // reported as EventTarget reports a listener's error: uncaught, after the others ran
        });
      }
    }
  }
}

/** A real AbortSignal that follows `signal` (itself when it is one), for APIs that require the platform's. */
export function platformSignal(signal: CancelSignal): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller.signal;
}
