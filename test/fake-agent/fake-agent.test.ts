/** The fake agent's faults, each seen through the real client: what it must survive, and what it must report. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAgent } from '../../src/agent/connect.js';
import { connectDirect } from '../../src/agent/direct.js';
import { decodeAll, FrameDecoder } from '../../src/agent/framing.js';
import { isQksError } from '../../src/errors.js';
import { startFakeAgent, type FakeAgent, type FakeAgentOptions } from '../../src/fake-agent/index.js';
import { describeWithPeers } from '../helpers/peers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function start(o: Omit<FakeAgentOptions, 'socketPath'> = {}): Promise<FakeAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'qks-fa-'));
  const a = await startFakeAgent({ socketPath: join(dir, 'qga.sock'), ...o });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => a.close());
  return a;
}
const KC = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';

describe('fake agent faults, survived by the client', () => {
  it('replies written a few bytes at a time', async () => {
    const a = await start({ files: { [KC]: 'k'.repeat(5000) }, faults: { splitWrites: 3 } });
    const c = await openAgent({ socket: a.socketPath });
    expect((await c.readFile(KC)).length).toBe(5000);
    await c.close();
  });

  it('every reply one byte per write, the handshake included', async () => {
    const a = await start({ files: { [KC]: 'k{"}\\'.repeat(100) }, faults: { splitWrites: 1 } });
    const c = await openAgent({ socket: a.socketPath });
    expect((await c.readFile(KC, { method: 'exec' })).toString()).toBe('k{"}\\'.repeat(100));
    await c.close();
  });

  it('stale replies and garbage left before the handshake are dropped', async () => {
    const a = await start({ faults: { garbage: 'junk}}{{', staleReplies: [{ return: 42 }, { return: { pid: 1 } }, '{"return": {"half'] } });
    const c = await openAgent({ socket: a.socketPath });
    expect(await c.execute('guest-sync', { id: 5 })).toBe(5);
    await c.close();
  });

  it('an agent without guest-sync-delimited: plain guest-sync fallback', async () => {
    const a = await start({ faults: { noSyncDelimited: true } });
    const c = await openAgent({ socket: a.socketPath });
    await c.ping();
    expect(a.requests.map((r) => r.execute)).toEqual(['guest-sync-delimited', 'guest-sync', 'guest-ping']);
    await c.close();
  });

  it('with guest-sync-delimited disabled, also plain guest-sync', async () => {
    const a = await start({ faults: { disabled: ['guest-sync-delimited'], flushError: false } });
    const c = await openAgent({ socket: a.socketPath });
    await c.ping();
    await c.close();
  });

  it('exec polls: status says "not exited" as often as asked, the client keeps polling with a growing interval', async () => {
    const a = await start({ files: { '/f': 'x' }, faults: { execPolls: 5 } });
    const c = await openAgent({ socket: a.socketPath });
    const t = performance.now();
    expect((await c.exec('/bin/cat', ['/f'])).stdout.toString()).toBe('x');
    expect(performance.now() - t).toBeLessThan(500); // 1+2+4+8+16 ms of back-off, not seconds
    expect(a.requests.filter((r) => r.execute === 'guest-exec-status')).toHaveLength(6);
    await c.close();
  });

  it('a file that appears after N ms: GUEST_FILE_NOT_FOUND until then', async () => {
    const a = await start();
    a.setFile(KC, 'later', { afterMs: 150 });
    const c = await openAgent({ socket: a.socketPath });
    const e = await c.readFile(KC).catch((x: unknown) => x);
    expect(isQksError(e, 'GUEST_FILE_NOT_FOUND')).toBe(true);
    await expect.poll(async () => (await c.readFile(KC).catch(() => Buffer.from(''))).toString(), { timeout: 3_000, interval: 20 }).toBe('later');
    await c.close();
  });

  it('a delayed reply within the timeout is fine; beyond it, AGENT_TIMEOUT', async () => {
    const a = await start({ faults: { delayMs: 40 } });
    const c = await openAgent({ socket: a.socketPath });
    await c.ping({ timeoutMs: 2_000 });
    const e = await c.ping({ timeoutMs: 5 }).catch((x: unknown) => x);
    expect(isQksError(e, 'AGENT_TIMEOUT')).toBe(true);
    await c.close();
  });

  it('serves one client at a time: the second waits, connected, until the first leaves', async () => {
    const a = await start();
    const first = await openAgent({ socket: a.socketPath });
    const raw = createConnection({ path: a.socketPath });
    await new Promise((r) => raw.once('connect', r));
    await expect.poll(() => a.connections).toBe(2);
    const second = connectDirect(a.socketPath, { handshakeTimeoutMs: 3_000 });
    await first.close();
    raw.destroy();
    const t = await second; // served once the first and the raw one are gone
    await t.close();
  });

  it('guest-file-write and the memfs volume', async () => {
    const a = await start();
    const c = await openAgent({ socket: a.socketPath });
    const h = await c.execute('guest-file-open', { path: '/tmp/x', mode: 'w' });
    await c.execute('guest-file-write', { handle: h, 'buf-b64': Buffer.from('written').toString('base64') });
    await c.execute('guest-file-close', { handle: h });
    expect(a.vol.readFileSync('/tmp/x', 'utf8')).toBe('written');
    expect((await c.readFile('/tmp/x')).toString()).toBe('written');
    await c.close();
  });
});

describe('the fake agent\'s socket file', () => {
  it('leaves a live socket alone: a second fake on the same path fails with EADDRINUSE, the first still answers', async () => {
    const a = await start();
    await expect(startFakeAgent({ socketPath: a.socketPath })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const c = await openAgent({ socket: a.socketPath });
    await c.ping();
    await c.close();
  });
});

describeWithPeers('the fake agent over a stale socket file', ['python3'], () => {
  it('replaces a socket nobody listens on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-fa-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'qga.sock');
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
    const a = await startFakeAgent({ socketPath: path });
    cleanups.push(() => a.close());
    const c = await openAgent({ socket: path });
    await c.ping();
    await c.close();
  });
});

describe('the fake against a recorded real qemu-ga 7.2 session (fixtures/agent/)', () => {
  it('answers the recorded requests with the recorded replies: flush-byte error, sync, exec, file, errors', async () => {
    const fixture = (name: string) => readFileSync(new URL(`../../fixtures/agent/${name}`, import.meta.url));
    const rec = JSON.parse(fixture('qemu-ga-7.2-session.json').toString()) as { kubeconfig: string; requests: string[] };
    const expected = decodeAll(fixture('qemu-ga-7.2-session.bin')).flatMap((f) => (f.type === 'message' ? [f.value] : []));
    const content = expected.map((v) => v.return as { 'buf-b64'?: string }).find((r) => r?.['buf-b64'])!['buf-b64']!;
    // the recording polled guest-exec-status once before the exit
    const a = await start({ files: { [rec.kubeconfig]: Buffer.from(content, 'base64') }, faults: { execPolls: 1 } });
    const s = createConnection({ path: a.socketPath });
    cleanups.push(() => void s.destroy());
    const got: Record<string, unknown>[] = [];
    const decoder = new FrameDecoder();
    s.on('data', (d: Buffer) => {
      for (const f of decoder.push(d)) if (f.type === 'message') got.push(f.value);
    });
    let pid: number | undefined;
    for (const r of rec.requests) {
      const want = got.length + (r.startsWith('\xff') ? 2 : 1); // the 0xFF byte gets its own (error) reply
      s.write(Buffer.from(pid === undefined ? r : r.replace(/"pid":\d+/, `"pid":${pid}`), 'latin1'));
      await expect.poll(() => got.length).toBe(want);
      const last = got.at(-1)!.return as { pid?: number } | undefined;
      if (typeof last?.pid === 'number') pid = last.pid;
    }
    const norm = (v: Record<string, unknown>) => JSON.parse(JSON.stringify(v).replace(/"pid":\d+/, '"pid":0')) as unknown;
    const info = expected.findIndex((v) => (v.return as { supported_commands?: unknown })?.supported_commands);
    expect(got.map((v, i) => (i === info ? 'guest-info' : norm(v)))).toEqual(expected.map((v, i) => (i === info ? 'guest-info' : norm(v))));
  });
});
