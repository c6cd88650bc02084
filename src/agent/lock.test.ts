import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireSocketLock, hash128, lockName } from './lock.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
