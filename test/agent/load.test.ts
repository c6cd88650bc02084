/**
 * Many callers on one agent socket take turns (a lock that dies with its holder), EAGAIN is
 * transient, a busy socket and a held one are told apart, and a late reply frees what it opened.
 * Bounds here are generous on purpose (shared, loaded machines); timing is measured in bench/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAgent } from '../../src/agent/connect.js';
import { connectDirect, MAX_UNRESOLVED, unresolvedCount } from '../../src/agent/direct.js';
import { acquireSocketLock } from '../../src/agent/lock.js';
import { startFakeAgent, type FakeAgent, type FakeAgentFaults } from '../../src/fake-agent/index.js';
import { CLI_BUNDLE, runCli } from '../helpers/cli.js';
import { rejectionOf } from '../helpers/errors.js';
import { describeWithPeers } from '../helpers/peers.js';
import { perTestCleanup, startRealAgent, type AgentPeer } from './peers.js';

const { cleanups, tempDir } = perTestCleanup('qks-load-');
async function fake(faults: FakeAgentFaults = {}, files: Record<string, string> = {}): Promise<FakeAgent> {
  const a = await startFakeAgent({ socketPath: join(tempDir(), 'qga.sock'), faults, files });
  cleanups.push(() => a.close());
  return a;
}
async function real(): Promise<AgentPeer> {
  const p = await startRealAgent();
  cleanups.push(() => p.close());
  return p;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A CLI process that holds the socket for a while (an exec of sleep in the guest), started and connected. */
async function holder(socketPath: string, seconds: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI_BUNDLE, 'agent', 'exec', '--socket', socketPath, '--timeout', '60', '--', '/bin/sleep', String(seconds)], { stdio: 'ignore' });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  // it holds the lock once its name is taken: probe until it is
  for (let i = 0; i < 400; i++) {
    const free = await acquireSocketLock(socketPath, { timeoutMs: 1 }).then(
      (l) => (l.release(), true),
      () => false,
    );
    if (!free) return child;
    await sleep(25);
  }
  throw new Error('the holder never took the lock');
}

describeWithPeers('many callers on one real qemu-ga', ['qemu-ga'], () => {
  // before: 2 of 8 failed with SOCKET_HELD ("libvirt keeps the standard channel open")
  it('eight CLI processes at once (cat and ping mixed) all succeed', async () => {
    const p = await real();
    const file = join(p.dir, 'kubeconfig');
    writeFileSync(file, 'apiVersion: v1\n'.repeat(300));
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => runCli(i % 4 === 3 ? ['--json', 'agent', 'ping', '--socket', p.socketPath] : ['agent', 'cat', '--socket', p.socketPath, file], { timeoutMs: 120_000 })),
    );
    for (const r of runs) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  }, 180_000);

  it('32 library callers in one process all succeed, in turn', async () => {
    const p = await real();
    const got = await Promise.all(
      Array.from({ length: 32 }, async () => {
        const c = await openAgent({ socket: p.socketPath });
        try {
          await c.ping();
          return 'ok';
        } finally {
          await c.close();
        }
      }),
    );
    expect(got.every((g) => g === 'ok')).toBe(true);
  }, 120_000);

  // before: EAGAIN was SOCKET_HELD at once
  it('EAGAIN ("listen queue full") is retried within the handshake bound', async () => {
    const p = await real();
    // a foreign client is served; more foreign clients fill qemu-ga's backlog until connect() says EAGAIN
    const foreign: Socket[] = [];
    cleanups.push(() => foreign.forEach((s) => s.destroy()));
    let sawEagain = false;
    for (let i = 0; i < 64 && !sawEagain; i++) {
      const s = connect(p.socketPath);
      s.on('error', (e: NodeJS.ErrnoException) => (sawEagain ||= e.code === 'EAGAIN'));
      foreign.push(s);
      await sleep(5);
    }
    expect(sawEagain).toBe(true);
    setTimeout(() => foreign.forEach((s) => s.destroy()), 400);
    const t = await connectDirect(p.socketPath, { handshakeTimeoutMs: 10_000, lock: false });
    await t.execute('guest-ping');
    await t.close();
  }, 60_000);

  it('busy with our own process (its pid and verb) is SOCKET_BUSY; the lock goes with a kill -9', async () => {
    const p = await real();
    const child = await holder(p.socketPath, 30);
    const e = await rejectionOf(acquireSocketLock(p.socketPath, { timeoutMs: 500 }));
    expect(e.code).toBe('SOCKET_BUSY');
    expect(e.message).toContain(`qemu-kubesolo process ${child.pid} (agent exec)`);
    expect(e.details).toMatchObject({ holderPid: child.pid, holderVerb: 'agent exec' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // the kernel dropped the abstract name with the process: no stale lock
    const l = await acquireSocketLock(p.socketPath, { timeoutMs: 2_000 });
    l.release();
    // and the agent serves us again (qemu-ga sees the killed client's EOF)
    const c = await openAgent({ socket: p.socketPath }, { handshakeTimeoutMs: 10_000 });
    await c.ping();
    await c.close();
  }, 60_000);

  it('held by a client that is not ours (libvirt on .0) stays SOCKET_HELD, a different code', async () => {
    const p = await real();
    const foreign = await connectDirect(p.socketPath, { lock: false });
    cleanups.push(() => foreign.close());
    const e = await rejectionOf(connectDirect(p.socketPath, { handshakeTimeoutMs: 500 }));
    expect(e.code).toBe('SOCKET_HELD');
    expect(e.message).toMatch(/held by another client/);
  }, 30_000);
});

describe('late replies and what they opened', () => {
  // before: a guest-file-open answered after our timeout left its handle open in the guest
  it('a late guest-file-open reply: the handle is closed once the channel is resynced', async () => {
    const a = await fake({ delayCommands: { 'guest-file-open': 400 } }, { '/f': 'data' });
    const c = await openAgent({ socket: a.socketPath });
    cleanups.push(() => c.close());
    expect((await rejectionOf(c.readFile('/f', { method: 'file', timeoutMs: 150 }))).code).toBe('AGENT_TIMEOUT');
    a.faults = {};
    await c.ping(); // resyncs, takes the late handle from the stream, closes it
    await c.ping();
    expect(a.openHandles).toBe(0);
    expect(a.requests.filter((r) => r.execute === 'guest-file-close')).toHaveLength(1);
    expect(unresolvedCount(a.socketPath)).toBe(0);
  });

  it('closing right after the timeout still waits briefly for the late reply and frees the handle', async () => {
    const a = await fake({ delayCommands: { 'guest-file-open': 300 } }, { '/f': 'data' });
    const c = await openAgent({ socket: a.socketPath });
    expect((await rejectionOf(c.readFile('/f', { method: 'file', timeoutMs: 100 }))).code).toBe('AGENT_TIMEOUT');
    await c.close();
    expect(a.openHandles).toBe(0);
  });

  it('a late guest-exec reply: its pid is noted', async () => {
    const a = await fake({ delayCommands: { 'guest-exec': 300 } });
    const t = await connectDirect(a.socketPath);
    cleanups.push(() => t.close());
    expect((await rejectionOf(t.execute('guest-exec', { path: '/bin/true', 'capture-output': true }, { timeoutMs: 100 }))).code).toBe('AGENT_TIMEOUT');
    a.faults = {};
    await t.execute('guest-ping');
    expect(t.latePids).toHaveLength(1);
  });

  it(`a guest that never answers opens is cut off after ${MAX_UNRESOLVED}: nothing more is sent`, async () => {
    // an empty scripted reply: the agent swallows guest-file-open and goes on answering the rest
    const a = await fake({ replies: { 'guest-file-open': '' } }, { '/f': 'x' });
    const t = await connectDirect(a.socketPath);
    cleanups.push(() => t.close());
    for (let i = 0; i < MAX_UNRESOLVED; i++) expect((await rejectionOf(t.execute('guest-file-open', { path: '/f' }, { timeoutMs: 100 }))).code).toBe('AGENT_TIMEOUT');
    const sent = a.requests.length;
    const e = await rejectionOf(t.execute('guest-file-open', { path: '/f' }, { timeoutMs: 100 }));
    expect(e.code).toBe('PROTOCOL_ERROR');
    expect(e.message).toMatch(/answered 8 commands too late/);
    // the resync went out, the open did not
    expect(a.requests.slice(sent).map((r) => r.execute)).not.toContain('guest-file-open');
    await t.execute('guest-ping'); // other commands still work
  }, 30_000);
});
