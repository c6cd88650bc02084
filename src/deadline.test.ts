import { describe, expect, it } from 'vitest';
import { backoffMs, bounded, sleep, startDeadline } from './deadline.js';
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
