import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffMs, bounded, sleep, startDeadline } from './deadline.js';
import { Cancellation, platformSignal, type CancelSignal } from './cancel.js';
import { isQksError, QksError } from './errors.js';

const timeoutErr = () => new QksError('AGENT_TIMEOUT', 'too slow');

describe('bounded', () => {
  it('settles with the first of: the work, the timer, the signal; cleanup runs exactly once', async () => {
    let cleaned = 0;
    await expect(bounded<number>({ timeoutMs: 1_000, onTimeout: timeoutErr }, ({ resolve }) => (setTimeout(() => resolve(7), 5), () => cleaned++))).resolves.toBe(7);
    expect(cleaned).toBe(1);
    const cancelled: string[] = [];
    const slow = bounded<number>({ timeoutMs: 20, onTimeout: timeoutErr, onCancel: (w) => cancelled.push(w) }, () => () => cleaned++);
    await expect(slow).rejects.toMatchObject({ code: 'AGENT_TIMEOUT' });
    expect(cleaned).toBe(2);
    const ac = new AbortController();
    const aborted = bounded<number>({ timeoutMs: 10_000, onTimeout: timeoutErr, signal: ac.signal, onCancel: (w) => cancelled.push(w) }, () => () => cleaned++);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(cleaned).toBe(3);
    expect(cancelled).toEqual(['timeout', 'abort']);
  });

  it('rejects at once on an aborted signal without starting, and runs the cleanup of work settled synchronously', async () => {
    const ac = new AbortController();
    ac.abort(new QksError('INTERRUPTED', 'stop'));
    let started = false;
    await expect(bounded({ timeoutMs: 10, onTimeout: timeoutErr, signal: ac.signal }, () => void (started = true))).rejects.toMatchObject({ message: 'stop' });
    expect(started).toBe(false);
    let cleaned = 0;
    await expect(bounded<number>({ timeoutMs: 10, onTimeout: timeoutErr }, ({ resolve }) => (resolve(1), () => cleaned++))).resolves.toBe(1);
    expect(cleaned).toBe(1);
    await expect(bounded({ timeoutMs: 10, onTimeout: timeoutErr }, () => { throw new Error('boom'); })).rejects.toThrow('boom');
  });
});

describe('startDeadline and sleep', () => {
  it('shares one budget: left() shrinks, then throws the deadline error; the signal aborts with it', async () => {
    const d = startDeadline(60, { onTimeout: timeoutErr });
    expect(d.left()).toBeLessThanOrEqual(60);
    await sleep(80);
    expect(d.expired).toBe(true);
    expect(() => d.left()).toThrow('too slow');
    expect(d.signal.aborted).toBe(true);
    expect(isQksError(d.signal.reason, 'AGENT_TIMEOUT')).toBe(true);
    d.dispose();
  });

  it('follows the caller signal; sleep stops on abort', async () => {
    const ac = new AbortController();
    const d = startDeadline(10_000, { onTimeout: timeoutErr, signal: ac.signal });
    const s = sleep(10_000, d.signal);
    ac.abort();
    await expect(s).rejects.toMatchObject({ code: 'INTERRUPTED' });
    d.dispose();
  });

  // the signal is made on first use (src/deadline.ts): it must look as an eager one would
  it('a signal first asked for late is as an eager one: aborted once the budget is gone, or the caller aborted', async () => {
    const d = startDeadline(20, { onTimeout: timeoutErr });
    await sleep(40);
    expect(d.signal.aborted).toBe(true);
    expect(isQksError(d.signal.reason, 'AGENT_TIMEOUT')).toBe(true);
    d.dispose();
    const ac = new AbortController();
    const p = startDeadline(10_000, { onTimeout: timeoutErr, signal: ac.signal });
    ac.abort(new QksError('INTERRUPTED', 'stop'));
    expect(p.signal.aborted).toBe(true);
    expect((p.signal.reason as Error).message).toBe('stop');
    p.dispose();
  });

  it('a signal asked for early aborts when the budget runs out later; asked for after dispose, it never aborts', async () => {
    const d = startDeadline(20, { onTimeout: timeoutErr });
    const s = d.signal;
    expect(s.aborted).toBe(false);
    await new Promise<void>((resolve) => s.addEventListener('abort', () => resolve(), { once: true }));
    expect(isQksError(s.reason, 'AGENT_TIMEOUT')).toBe(true);
    d.dispose();
    // disposed in time: neither the budget nor the caller's later abort reaches it
    const ac = new AbortController();
    const e = startDeadline(20, { onTimeout: timeoutErr, signal: ac.signal });
    e.dispose();
    await sleep(40);
    ac.abort();
    expect(e.signal.aborted).toBe(false);
    // disposed after the budget ran out (no signal asked for yet): aborted, as an eager one was by then
    const f = startDeadline(5, { onTimeout: timeoutErr });
    await sleep(20);
    f.dispose();
    expect(f.signal.aborted).toBe(true);
  });

  it('backoff is jittered between half and all of the capped exponential', () => {
    const r = { firstMs: 10, maxMs: 100 };
    expect(backoffMs(0, r, () => 0)).toBe(5);
    expect(backoffMs(0, r, () => 1)).toBe(10);
    expect(backoffMs(3, r, () => 1)).toBe(80);
    expect(backoffMs(30, r, () => 1)).toBe(100);
    expect(backoffMs(30, r, () => 0)).toBe(50);
  });
});

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
