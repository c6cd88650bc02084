/**
 * Each way the agent path can fail ends in its own error code within its bound: missing or stale
 * socket, no permission, a listener that never answers, a peer that hangs up mid-reply, garbage.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectDirect } from '../../src/agent/direct.js';
import { openAgent } from '../../src/agent/connect.js';
import { isQksError, type QksError } from '../../src/errors.js';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { CLI_BUNDLE } from '../helpers/cli.js';
import { describeWithPeers, IS_ROOT } from '../helpers/peers.js';
import { perTestCleanup } from './peers.js';

const { cleanups, tempDir } = perTestCleanup('qks-fail-');
async function fake(faults: Parameters<typeof startFakeAgent>[0]['faults']): Promise<FakeAgent> {
  const a = await startFakeAgent({ socketPath: join(tempDir(), 'qga.sock'), faults });
  cleanups.push(() => a.close());
  return a;
}
/** A raw listener: `onClient` decides what the peer does. */
async function rawServer(onClient: (s: Socket) => void): Promise<string> {
  const path = join(tempDir(), 'raw.sock');
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    onClient(s);
  });
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return path;
}
async function timed(p: Promise<unknown>): Promise<{ error: QksError; ms: number }> {
  const t = performance.now();
  try {
    await p;
  } catch (e) {
    if (!isQksError(e)) throw e;
    return { error: e, ms: performance.now() - t };
  }
  throw new Error('expected a failure');
}

describe('agent failures', () => {
  it('missing socket: SOCKET_NOT_FOUND at once', async () => {
    const { error, ms } = await timed(connectDirect(join(tempDir(), 'nope.sock')));
    expect(error.code).toBe('SOCKET_NOT_FOUND');
    expect(error.retryable).toBe(true);
    expect(ms).toBeLessThan(500);
  });

  it('a path that is not a socket: SOCKET_NOT_FOUND', async () => {
    const f = join(tempDir(), 'file');
    writeFileSync(f, '');
    expect((await timed(connectDirect(f))).error.code).toBe('SOCKET_NOT_FOUND');
  });

  it('a listener that accepts and never answers: SOCKET_HELD within the handshake timeout, connection closed', async () => {
    let closed = false;
    const path = await rawServer((s) => s.on('close', () => (closed = true)).resume());
    const { error, ms } = await timed(connectDirect(path, { handshakeTimeoutMs: 300 }));
    expect(error.code).toBe('SOCKET_HELD');
    expect(error.hint).toMatch(/dedicated channel org\.qemu\.guest_agent\.1/);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1_500);
    await expect.poll(() => closed, { timeout: 2_000 }).toBe(true);
  });

  it('the fake in never-answer mode behaves the same', async () => {
    const a = await fake({ neverAnswer: true });
    expect((await timed(connectDirect(a.socketPath, { handshakeTimeoutMs: 200 }))).error.code).toBe('SOCKET_HELD');
  });

  it('a peer that closes mid-reply: AGENT_DISCONNECTED, during the handshake or a command', async () => {
    const path = await rawServer((s) => s.once('data', () => s.end(Buffer.from('\xff{"return": 1', 'latin1'))));
    const { error, ms } = await timed(connectDirect(path, { handshakeTimeoutMs: 2_000 }));
    expect(error.code).toBe('AGENT_DISCONNECTED');
    expect(ms).toBeLessThan(1_000);

    const a = await fake({ disconnectMidReply: ['guest-info'] });
    const c = await openAgent({ socket: a.socketPath });
    await c.ping();
    expect((await timed(c.info())).error.code).toBe('AGENT_DISCONNECTED');
    expect((await timed(c.ping())).error.code).toBe('AGENT_DISCONNECTED'); // stays closed, no hang
    await c.close();
  });

  it('a peer that answers garbage: PROTOCOL_ERROR within the handshake timeout', async () => {
    const path = await rawServer((s) => s.on('data', () => s.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const { error, ms } = await timed(connectDirect(path, { handshakeTimeoutMs: 300 }));
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(ms).toBeLessThan(1_500);
    const a = await fake({ garbageOnly: true });
    expect((await timed(connectDirect(a.socketPath, { handshakeTimeoutMs: 300 }))).error.code).toBe('PROTOCOL_ERROR');
  });

  it('a reply that never ends: PROTOCOL_ERROR at the size bound, not unbounded buffering', async () => {
    const path = await rawServer((s) =>
      s.once('data', () => {
        s.write('\xff{"return": "', 'latin1');
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          while (!s.destroyed && s.write(chunk));
          if (!s.destroyed) s.once('drain', pump);
        };
        pump();
      }),
    );
    const { error } = await timed(connectDirect(path, { handshakeTimeoutMs: 5_000, maxMessageBytes: 1024 * 1024 }));
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/exceeds/);
  });

  it('a malformed reply to a command: PROTOCOL_ERROR naming the command', async () => {
    const path = await rawServer((s) => {
      let n = 0;
      s.on('data', (d: Buffer) => {
        if (n++ === 0) s.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ return: JSON.parse(d.subarray(1).toString()).arguments.id }) + '\n')]));
        else s.write('{"return": {"version": 7}}\n');
      });
    });
    const c = await openAgent({ socket: path });
    const { error } = await timed(c.info());
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/guest-info/);
    await c.close();
  });

  it('a slow reply: AGENT_TIMEOUT, then the next command resyncs and never sees the late reply', async () => {
    const a = await fake({ delayMs: 150 });
    const c = await openAgent({ socket: a.socketPath }, { handshakeTimeoutMs: 2_000 });
    expect((await timed(c.execute('guest-sync', { id: 111 }, { timeoutMs: 30 }))).error.code).toBe('AGENT_TIMEOUT');
    a.faults.delayMs = 0;
    // the late {"return": 111} arrives during the resync and is dropped
    expect(await c.execute('guest-sync', { id: 222 })).toBe(222);
    expect(a.requests.filter((r) => r.execute === 'guest-sync-delimited')).toHaveLength(2);
    await c.close();
  });

  it('the resync after a timeout counts against the next command\'s bound, not on top of it', async () => {
    const a = await fake({});
    const c = await openAgent({ socket: a.socketPath }, { handshakeTimeoutMs: 3_000 });
    a.faults.neverAnswer = true;
    expect((await timed(c.ping({ timeoutMs: 50 }))).error.code).toBe('AGENT_TIMEOUT');
    const { error, ms } = await timed(c.ping({ timeoutMs: 200 }));
    expect(error.code).toBe('AGENT_TIMEOUT');
    expect(ms).toBeLessThan(1_500); // not the 3 s handshake bound plus 200 ms
    a.faults.neverAnswer = false;
    await c.ping(); // resyncs and is in step again
    await c.close();
  });

  it('stops waiting when aborted', async () => {
    const a = await fake({ neverAnswer: true });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const { error, ms } = await timed(connectDirect(a.socketPath, { handshakeTimeoutMs: 5_000, signal: ac.signal }));
    expect(error).toBeDefined();
    expect(ms).toBeLessThan(1_000);
  });
});

describeWithPeers('stale socket (no listener)', ['python3'], () => {
  it('ECONNREFUSED: SOCKET_NOT_FOUND saying the VM is not running', async () => {
    const path = join(tempDir(), 'stale.sock');
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
    const { error } = await timed(connectDirect(path));
    expect(error.code).toBe('SOCKET_NOT_FOUND');
    expect(error.message).toMatch(/stale/);
  });
});

describeWithPeers(
  'socket mode 000 opened by an unprivileged user',
  ['setpriv'],
  () => {
    it('SOCKET_PERMISSION (exit 4) with the hint about root, the qemu group and --transport libvirt', async () => {
      const dir = tempDir();
      chmodSync(dir, 0o755);
      const a = await startFakeAgent({ socketPath: join(dir, 'qga.sock') });
      cleanups.push(() => a.close());
      chmodSync(a.socketPath, 0o000);
      // the CLI bundle as a child process of an unprivileged user (we are root, who ignores modes)
      const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        execFile(
          'setpriv',
          ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI_BUNDLE, '--json', 'agent', 'ping', '--socket', a.socketPath],
          { timeout: 20_000 },
          (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
        );
      });
      expect(out.code).toBe(4);
      const j = JSON.parse(out.stdout.trim()) as { error: { code: string; hint: string } };
      expect(j.error.code).toBe('SOCKET_PERMISSION');
      expect(j.error.hint).toMatch(/root/);
      expect(j.error.hint).toMatch(/--transport libvirt/);
    });
  },
  () => (IS_ROOT ? undefined : 'needs root to switch to an unprivileged user'),
);
