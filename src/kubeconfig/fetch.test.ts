import { describe, expect, it } from 'vitest';
import { isQksError, QksError } from '../errors.js';
import { guestFileTooLarge } from '../agent/errors.js';
import { chooseReadMethod, fetchViaAgent, withWait, type AgentLike } from './fetch.js';

const on = (...names: string[]) => names.map((name) => ({ name, enabled: true, successResponse: true }));
const off = (...names: string[]) => names.map((name) => ({ name, enabled: false, successResponse: true }));

/** A stand-in with the AgentClient method shapes: records what was called. */
function stubAgent(commands: ReturnType<typeof on>, read: (method: string) => Buffer | QksError) {
  const calls: string[] = [];
  const client: AgentLike = {
    transportInfo: { kind: 'direct', socketPath: '/stub', channel: 'org.qemu.guest_agent.1' },
    info: async () => (calls.push('info'), { version: '9.9.9', commands }),
    readFile: async (_p, o) => {
      calls.push(`read:${o?.method}`);
      const r = read(o?.method ?? 'auto');
      if (r instanceof QksError) throw r;
      return r;
    },
    close: async () => void calls.push('close'),
  };
  return { calls, open: async () => client };
}

describe('chooseReadMethod', () => {
  it('prefers the file read, falls back to exec, from guest-info alone', () => {
    expect(chooseReadMethod([...on('guest-file-open', 'guest-file-read', 'guest-file-close', 'guest-exec', 'guest-exec-status')])).toBe('file-read');
    expect(chooseReadMethod([...off('guest-file-open'), ...on('guest-file-read', 'guest-file-close', 'guest-exec', 'guest-exec-status')])).toBe('exec');
    expect(chooseReadMethod([...off('guest-file-open', 'guest-exec'), ...on('guest-file-read', 'guest-file-close', 'guest-exec-status')])).toBeUndefined();
  });
});

describe('fetchViaAgent', () => {
  const all = on('guest-file-open', 'guest-file-read', 'guest-file-close', 'guest-exec', 'guest-exec-status');

  it('reads with the method guest-info allows and closes the client', async () => {
    const s = stubAgent(all, () => Buffer.from('x'));
    const r = await fetchViaAgent(s.open, { socket: '/stub' }, '/k', { maxBytes: 100 });
    expect(r).toMatchObject({ method: 'file-read', agentVersion: '9.9.9', transport: { channel: 'org.qemu.guest_agent.1' } });
    expect(s.calls).toEqual(['info', 'read:file', 'close']);
    const e = stubAgent([...off('guest-file-open'), ...on('guest-exec', 'guest-exec-status')], () => Buffer.from('x'));
    expect((await fetchViaAgent(e.open, {}, '/k', { maxBytes: 100 })).method).toBe('exec');
    expect(e.calls).toEqual(['info', 'read:exec', 'close']);
  });

  it('fails at once when the agent can read no file', async () => {
    const s = stubAgent(off('guest-file-open', 'guest-exec'), () => Buffer.from('x'));
    await expect(fetchViaAgent(s.open, {}, '/k', { maxBytes: 100 })).rejects.toMatchObject({ code: 'COMMAND_DISABLED', retryable: false });
    expect(s.calls).toEqual(['info', 'close']);
  });

  it('maps the client errors: too large -> KUBECONFIG_INVALID, permission -> GUEST_FILE_PERMISSION', async () => {
    const big = stubAgent(all, () => guestFileTooLarge('/k', 101));
    await expect(fetchViaAgent(big.open, {}, '/k', { maxBytes: 100 })).rejects.toMatchObject({ code: 'KUBECONFIG_INVALID' });
    const denied = stubAgent(all, () => new QksError('COMMAND_FAILED', 'x', { details: { desc: "failed to open file '/k': Permission denied" } }));
    await expect(fetchViaAgent(denied.open, {}, '/k', { maxBytes: 100 })).rejects.toMatchObject({ code: 'GUEST_FILE_PERMISSION' });
    expect(denied.calls.at(-1)).toBe('close');
  });
});

describe('withWait', () => {
  const notYet = () => new QksError('GUEST_FILE_NOT_FOUND', '/k does not exist in the VM (yet)');

  it('without wait: one attempt, its error as is', async () => {
    let n = 0;
    await expect(withWait(async () => (n++, Promise.reject(notYet())), { wait: false, timeoutMs: 5000, what: 'x' })).rejects.toMatchObject({ code: 'GUEST_FILE_NOT_FOUND' });
    expect(n).toBe(1);
  });

  it('retries retryable errors and notices success within a second', async () => {
    const readyAt = performance.now() + 1500;
    const progress: string[] = [];
    const t0 = performance.now();
    const v = await withWait(async () => (performance.now() >= readyAt ? 'ok' : Promise.reject(notYet())), {
      wait: true,
      timeoutMs: 10_000,
      what: 'the file',
      onProgress: (ms, e) => progress.push(`${Math.round(ms)} ${e.code}`),
    });
    expect(v).toBe('ok');
    expect(performance.now() - readyAt).toBeLessThan(1000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(progress.length).toBeGreaterThan(2);
  });

  it('stops at once on errors waiting cannot fix', async () => {
    let n = 0;
    const t0 = performance.now();
    await expect(
      withWait(async () => (n++, Promise.reject(new QksError('SOCKET_PERMISSION', 'denied'))), { wait: true, timeoutMs: 10_000, what: 'x' }),
    ).rejects.toMatchObject({ code: 'SOCKET_PERMISSION' });
    expect(n).toBe(1);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('ends in WAIT_TIMEOUT naming what it last saw, even when an attempt hangs', async () => {
    const t0 = performance.now();
    let n = 0;
    const e = await withWait(() => (n++ < 2 ? Promise.reject(notYet()) : new Promise<never>(() => {})), { wait: true, timeoutMs: 1200, what: 'the kubeconfig' }).catch((x) => x);
    expect(isQksError(e, 'WAIT_TIMEOUT')).toBe(true);
    expect(e.message).toMatch(/gave up after 1 s waiting for the kubeconfig; last: .*does not exist.*GUEST_FILE_NOT_FOUND/);
    expect(e.exitCode).toBe(5);
    expect(performance.now() - t0).toBeLessThan(1700);
  });

  it('stops on the caller signal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new QksError('INTERNAL', 'interrupted by SIGINT')), 300);
    const t0 = performance.now();
    await expect(withWait(async () => Promise.reject(notYet()), { wait: true, timeoutMs: 10_000, what: 'x', signal: ac.signal })).rejects.toThrow(/SIGINT/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('mapBounded', () => {
  it('never runs more than `jobs` at once and keeps input order', async () => {
    const { mapBounded } = await import('./batch.js');
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    const out = await mapBounded(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      async (i) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, (i * 7) % 13));
        inFlight--;
        return i * 2;
      },
      (r) => done.push(r),
    );
    expect(peak).toBe(4);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(done).toHaveLength(20);
  });
});
