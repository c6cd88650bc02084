import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireSocketLock, hash128, lockName } from './lock.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `name` can be bound right now, synchronously (closed again at once): false while someone holds it. */
function bindsNow(name: string): boolean {
  const s = createServer() as Server & { _listen2(a: string, p: number, t: number, b: number): void; _pipeName?: string; _handle: unknown };
  s.on('error', () => {});
  s._pipeName = name;
  s._listen2(name, -1, -1, 511);
  const bound = !!s._handle;
  s.close();
  return bound;
}

describe('acquireSocketLock', () => {
  it('names the lock after the real path: a symlink shares it, another socket does not', () => {
    const a = join(dir, 'a.sock');
    writeFileSync(a, '');
    symlinkSync(a, join(dir, 'link.sock'));
    expect(lockName(join(dir, 'link.sock'))).toBe(lockName(a));
    expect(lockName(join(dir, 'b.sock'))).not.toBe(lockName(a));
    expect(lockName(a)).toMatch(/^\0qemu-kubesolo-lock-[0-9a-f]{32}$/);
  });

  it('hashes the path the same way in every release (another version must see the same lock)', () => {
    expect(hash128('/run/libvirt/qemu/channel/1-kubesolo/org.qemu.guest_agent.1')).toBe('b687e80e4a6a2f95c0e7d40d61f514a7');
    expect(hash128('')).toBe('027ae52ecfc796215593990d4b41437c');
    expect(hash128('a')).not.toBe(hash128('b'));
  });

  it.runIf(process.platform === 'linux')('holds the abstract name: a second bind of it, as another process would try, is refused', async () => {
    const path = join(dir, 'held.sock');
    const lock = await acquireSocketLock(path);
    const other = createServer();
    const code = await new Promise<string | undefined>((resolve) => {
      other.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
      other.listen(lockName(path), () => resolve(undefined));
    });
    other.close();
    expect(code).toBe('EADDRINUSE');
    lock.release();
    // released: the name is free again
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(lockName(path), resolve);
    });
    again.close();
  });

  // a lock kept bound "for a moment" after release (to hand it to our next caller) would shut out a
  // child run with spawnSync right after, which blocks our event loop: the name is free at release
  it.runIf(process.platform === 'linux')('a released name is free at once, even for a child started synchronously right after', async () => {
    const path = join(dir, 'sync-child.sock');
    const lock = await acquireSocketLock(path);
    lock.release();
    const child = spawnSync(process.execPath, ['-e', `require('net').createServer().listen('\\0' + process.argv[1], function () { this.close(); }).on('error', (e) => { console.log(e.code); process.exit(1); })`, lockName(path).slice(1)], { encoding: 'utf8', timeout: 60_000 });
    expect(child.status, child.stdout).toBe(0);
  });

  // the fast path (nobody of ours ahead): the name is bound inside the call, before any tick
  it.runIf(process.platform === 'linux')('with nobody ahead, takes the name before the call returns; with a caller ahead, queues', async () => {
    const path = join(dir, 'fast.sock');
    const pending = acquireSocketLock(path);
    expect(bindsNow(lockName(path))).toBe(false);
    const lock = await pending;
    // a caller behind us waits its turn (no bind of its own yet)
    let second: { release(): void } | undefined;
    const waiting = acquireSocketLock(path).then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBeUndefined();
    lock.release();
    await waiting;
    expect(bindsNow(lockName(path))).toBe(false);
    second!.release();
    expect(bindsNow(lockName(path))).toBe(true);
  });

  it('many callers in one process get their turns in the order they asked, one at a time', async () => {
    const path = join(dir, 'order.sock');
    const order: number[] = [];
    let inside = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const lock = await acquireSocketLock(path);
        inside++;
        expect(inside).toBe(1);
        order.push(i);
        await new Promise((r) => setTimeout(r, i % 2 ? 1 : 5));
        inside--;
        lock.release();
      }),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  // our next caller goes at once: close() frees the name before it returns, even with a waiter's
  // question (another process asking who holds it) still connected
  it.runIf(process.platform === 'linux')('release frees the name at once, for the next caller here and with an asker still connected', async () => {
    const path = join(dir, 'asked.sock');
    const lock = await acquireSocketLock(path, { verb: 'test verb' });
    const asker = createConnection({ path: lockName(path) });
    const told = await new Promise<string>((resolve) => {
      let text = '';
      asker.on('data', (d) => (text += d.toString()));
      asker.on('end', () => resolve(text));
    });
    expect(JSON.parse(told)).toMatchObject({ pid: process.pid, verb: 'test verb' });
    const again = createConnection({ path: lockName(path) });
    await new Promise((r) => again.once('connect', r));
    lock.release();
    expect(bindsNow(lockName(path))).toBe(true);
    again.destroy();
    asker.destroy();
    const next = acquireSocketLock(path);
    expect(bindsNow(lockName(path))).toBe(false);
    (await next).release();
  });

  it.runIf(process.platform === 'linux')('another process holding the name: SOCKET_BUSY naming its pid and verb; our turn comes when it lets go', async () => {
    const path = join(dir, 'cross.sock');
    const name = lockName(path);
    // a holder that answers as ours do ({pid, verb, since}), then lets go when told on stdin
    const child = spawn(
      process.execPath,
      ['-e', `const s = require('net').createServer((c) => c.end(JSON.stringify({ pid: process.pid, verb: 'other verb', since: Date.now() }))).listen('\\0' + process.argv[1], () => console.log('bound')); process.stdin.once('data', () => { s.close(); process.exit(0); });`, name.slice(1)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      const e = await acquireSocketLock(path, { timeoutMs: 300 }).catch((x: { code: string; message: string; details: Record<string, unknown> }) => x);
      expect(e).toMatchObject({ code: 'SOCKET_BUSY', details: { holderPid: child.pid, holderVerb: 'other verb' } });
      expect((e as { message: string }).message).toMatch(new RegExp(`process ${child.pid} \\(other verb\\)`));
      // a caller of ours queued behind the waiting one also waits, then both get turns once it is gone
      const first = acquireSocketLock(path, { timeoutMs: 10_000 });
      const second = acquireSocketLock(path, { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      child.stdin!.write('go\n');
      const a = await first;
      expect(bindsNow(name)).toBe(false);
      a.release();
      (await second).release();
    } finally {
      child.kill();
    }
  });

  it('callers in one process take turns in order; a waiter that gives up is SOCKET_BUSY and does not jump the queue', async () => {
    const path = join(dir, 'q.sock');
    const order: number[] = [];
    const first = await acquireSocketLock(path);
    const impatient = acquireSocketLock(path, { timeoutMs: 50 }).catch((e: { code: string; message: string }) => e);
    const second = acquireSocketLock(path).then((l) => (order.push(2), l));
    const gaveUp = await impatient;
    expect(gaveUp).toMatchObject({ code: 'SOCKET_BUSY' });
    expect((gaveUp as { message: string }).message).toMatch(/another caller in this process/);
    order.push(1);
    first.release();
    first.release(); // idempotent
    (await second).release();
    expect(order).toEqual([1, 2]);
    const again = await acquireSocketLock(path, { timeoutMs: 1_000 });
    again.release();
  });

  it('stops waiting on abort', async () => {
    const path = join(dir, 'abort.sock');
    const held = await acquireSocketLock(path);
    const ac = new AbortController();
    const waiting = acquireSocketLock(path, { signal: ac.signal }).catch((e: { code: string }) => e);
    ac.abort();
    expect(await waiting).toMatchObject({ code: 'INTERRUPTED' });
    held.release();
  });
});
