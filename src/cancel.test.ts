import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cancellation, platformSignal, type CancelSignal } from './cancel.js';
import { bounded, sleep, startDeadline } from './deadline.js';
import { QksError } from './errors.js';

const timeoutErr = () => new QksError('AGENT_TIMEOUT', 'too slow');

describe('Cancellation (the CLI command signal)', () => {
  type Op = { add: number } | { remove: number } | { abort: number };
  /** Runs `ops` on a signal and its abort, recording which listeners ran, in order, and the state after. */
  function run(signal: CancelSignal, abort: (reason: unknown) => void, ops: Op[], removes: (number | null)[]) {
    const calls: number[] = [];
    // listener i, when called, removes listener removes[i] (a cleanup that stops another wait)
    const listeners: (() => void)[] = [0, 1, 2, 3].map((i) => () => {
      calls.push(i);
      const j = removes[i];
      if (j !== null && j !== undefined) signal.removeEventListener('abort', listeners[j]!);
    });
    for (const op of ops) {
      if ('add' in op) signal.addEventListener('abort', listeners[op.add]!, { once: true });
      else if ('remove' in op) signal.removeEventListener('abort', listeners[op.remove]!);
      else abort(op.abort);
    }
    return { calls, aborted: signal.aborted, reason: signal.aborted ? signal.reason : undefined };
  }

  it('calls listeners as an AbortSignal does: once, in the order added, duplicates once, not when removed by an earlier one, none after the first abort', () => {
    const op = fc.oneof(
      fc.record({ add: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ remove: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ abort: fc.integer({ min: 1, max: 9 }) }),
    ) as fc.Arbitrary<Op>;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 14 }), fc.array(fc.option(fc.integer({ min: 0, max: 3 })), { minLength: 4, maxLength: 4 }), (ops, removes) => {
        const c = new Cancellation();
        const ac = new AbortController();
        expect(run(c, (r) => c.abort(r), ops, removes)).toEqual(run(ac.signal, (r) => ac.abort(r), ops, removes));
      }),
      { numRuns: 500 },
    );
  });

  it('a listener that throws does not stop the others; the error is reported as uncaught, as EventTarget does', async () => {
    const c = new Cancellation();
    const seen: string[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      c.addEventListener('abort', () => {
        throw new Error('listener failed');
      });
      c.addEventListener('abort', () => seen.push('second'));
      c.abort('why');
      expect(seen).toEqual(['second']);
      await new Promise((r) => setImmediate(r));
      expect(uncaught).toMatchObject([{ message: 'listener failed' }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const l of listeners) process.on('uncaughtException', l);
    }
  });

  it('stops bounded waits, sleeps and deadlines like an AbortSignal (INTERRUPTED, or its QksError reason)', async () => {
    const c = new Cancellation();
    let cleaned = 0;
    const wait = bounded<number>({ timeoutMs: 10_000, onTimeout: timeoutErr, signal: c }, () => () => cleaned++);
    const nap = sleep(10_000, c);
    const d = startDeadline(10_000, { onTimeout: timeoutErr, signal: c });
    const ds = d.signal;
    c.abort(new QksError('INTERRUPTED', 'Ctrl-C'));
    await expect(wait).rejects.toMatchObject({ message: 'Ctrl-C' });
    await expect(nap).rejects.toMatchObject({ message: 'Ctrl-C' });
    expect(cleaned).toBe(1);
    expect(ds.aborted && (ds.reason as Error).message).toBe('Ctrl-C');
    d.dispose();
    await expect(sleep(1, c)).rejects.toMatchObject({ message: 'Ctrl-C' });
  });

  it('platformSignal: an AbortSignal as it is; for a Cancellation, a real one that follows it', () => {
    const ac = new AbortController();
    expect(platformSignal(ac.signal)).toBe(ac.signal);
    const c = new Cancellation();
    const s = platformSignal(c);
    expect(s).toBeInstanceOf(AbortSignal);
    expect(s.aborted).toBe(false);
    const reason = new QksError('INTERRUPTED', 'stop');
    c.abort(reason);
    expect(s.aborted).toBe(true);
    expect(s.reason).toBe(reason);
    const late = platformSignal(c);
    expect(late.aborted && late.reason).toBe(reason);
  });
});
