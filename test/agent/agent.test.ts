/**
 * One suite, two agents: the real qemu-ga and the fake. Whatever the client relies on must hold for
 * both, which keeps the fake honest.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgent } from '../../src/agent/connect.js';
import { AgentClient } from '../../src/agent/client.js';
import { connectDirect } from '../../src/agent/direct.js';
import { isQksError, type QksError } from '../../src/errors.js';
import { describeWithPeers } from '../helpers/peers.js';
import { kubeconfigLike, startFakePeer, startRealAgent, type AgentPeer, type PeerOptions } from './peers.js';
import { rejectionOf } from '../helpers/errors.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isQksError(e) ? e.code : `not a QksError: ${String(e)}`;
  }
  return 'no error';
}
const PEERS: { name: string; commands: string[]; start: (o?: PeerOptions) => Promise<AgentPeer> }[] = [
  { name: 'real qemu-ga', commands: ['qemu-ga'], start: startRealAgent },
  { name: 'fake agent', commands: [], start: startFakePeer },
];

for (const P of PEERS) {
  describeWithPeers(`agent client against the ${P.name}`, P.commands, () => {
    let peer: AgentPeer;
    let client: AgentClient;
    let kubeconfigPath: string;
    const kubeconfig = kubeconfigLike();

    beforeAll(async () => {
      peer = await P.start();
      kubeconfigPath = join(peer.dir, 'guest/var/lib/kubesolo/pki/admin/admin.kubeconfig');
      peer.writeGuestFile(kubeconfigPath, kubeconfig);
      client = await openAgent({ socket: peer.socketPath });
    });
    afterAll(async () => {
      await client?.close();
      await peer?.close();
    });

    it('syncs and answers guest-ping, naming its transport', async () => {
      await client.ping();
      expect(client.transportInfo).toEqual({ kind: 'direct', socketPath: peer.socketPath });
    });

    it('lists its commands with guest-info', async () => {
      const info = await client.info();
      expect(info.version).toMatch(/^\d+\.\d+/);
      for (const c of ['guest-exec', 'guest-exec-status', 'guest-file-open', 'guest-file-read', 'guest-file-close', 'guest-sync-delimited']) {
        expect(info.commands).toContainEqual({ name: c, enabled: true, successResponse: true });
      }
      expect(await client.isEnabled('guest-exec')).toBe(true);
      expect(await client.isEnabled('no-such-command')).toBe(false);
    });

    it('runs /bin/cat with guest-exec and returns its output', async () => {
      const r = await client.exec('/bin/cat', [kubeconfigPath]);
      expect(r).toMatchObject({ exitCode: 0, stdoutTruncated: false, stderrTruncated: false });
      expect(r.stdout.toString()).toBe(kubeconfig);
      expect(r.stderr.length).toBe(0);
    });

    it('passes stdin to the program', async () => {
      const r = await client.exec('/bin/cat', [], { input: 'from stdin {"x": "}"}\n' });
      expect(r.stdout.toString()).toBe('from stdin {"x": "}"}\n');
    });

    it('reports a failing command with its exit code and stderr', async () => {
      expect((await client.exec('/bin/false')).exitCode).toBe(1);
      expect((await client.exec('/bin/sh', ['-c', 'exit 3'])).exitCode).toBe(3);
      const r = await client.exec('/bin/cat', [join(peer.dir, 'missing')]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr.toString()).toMatch(/No such file or directory/);
    });

    it('fails with COMMAND_FAILED for a program that does not exist', async () => {
      const e = await rejectionOf(client.exec('/nonexistent/program'));
      expect(e.code).toBe('COMMAND_FAILED');
      expect(e.details.class).toBe('GenericError');
    });

    it('reads a kubeconfig-sized file with guest-file-read, and by exec of cat', async () => {
      expect((await client.readFile(kubeconfigPath, { method: 'file' })).toString()).toBe(kubeconfig);
      expect((await client.readFile(kubeconfigPath, { method: 'exec' })).toString()).toBe(kubeconfig);
      // small chunks: several reads, the last one at eof
      expect((await client.readFile(kubeconfigPath, { method: 'file', chunkBytes: 1000 })).toString()).toBe(kubeconfig);
      expect((await client.readFile(kubeconfigPath, { method: 'file', chunkBytes: kubeconfig.length })).toString()).toBe(kubeconfig);
      if (peer.fake) expect(peer.fake.openHandles).toBe(0);
    });

    it('says GUEST_FILE_NOT_FOUND (retryable) for a missing file, by either method', async () => {
      for (const method of ['file', 'exec'] as const) {
        const e = await rejectionOf(client.readFile(join(peer.dir, 'not-yet'), { method }));
        expect(e.code).toBe('GUEST_FILE_NOT_FOUND');
        expect(e.retryable).toBe(true);
      }
    });

    it('refuses a file over maxBytes and still closes the handle', async () => {
      const e = await rejectionOf(client.readFile(kubeconfigPath, { method: 'file', maxBytes: 100, chunkBytes: 64 }));
      expect(e.code).toBe('GUEST_FILE_TOO_LARGE'); // its own code: callers branch on it, not on details
      expect(e.message).toMatch(/larger than 100 bytes/);
      if (peer.fake) expect(peer.fake.openHandles).toBe(0);
      await client.ping(); // the connection is still in step
    });

    it('maps an unknown command to COMMAND_FAILED with the class, and passes others through execute()', async () => {
      const e = await rejectionOf(client.execute('no-such-command'));
      expect(e.code).toBe('COMMAND_FAILED');
      expect(e.details).toMatchObject({ class: 'CommandNotFound' });
      const h = await client.execute('guest-file-open', { path: kubeconfigPath });
      expect(typeof h).toBe('number');
      await client.execute('guest-file-close', { handle: h });
    });

    it('serialises concurrent commands on one connection', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? client.ping() : client.execute('guest-sync', { id: i }))));
      expect(results.filter((r) => typeof r === 'number')).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    });

    it('answers a second client only once the first has gone: SOCKET_HELD within the handshake timeout', async () => {
      const started = performance.now();
      // lock: false poses as a client that is not us (libvirt): it does not take turns with ours
      const e = await rejectionOf(connectDirect(peer.socketPath, { handshakeTimeoutMs: 400, lock: false }));
      const ms = performance.now() - started;
      expect(e.code).toBe('SOCKET_HELD');
      expect(e.message).toMatch(/held by another client/);
      expect(e.hint).toMatch(/org\.qemu\.guest_agent\.1/);
      expect(ms).toBeGreaterThanOrEqual(390);
      expect(ms).toBeLessThan(2_000);
      await client.ping(); // the holder is undisturbed
      await client.close();
      // the queued connection was closed, not left behind: a new client is served at once
      client = await openAgent({ socket: peer.socketPath }, { handshakeTimeoutMs: 2_000 });
      await client.ping();
    });

    it('a second caller of ours waits for its turn instead of being called SOCKET_HELD', async () => {
      const second = openAgent({ socket: peer.socketPath }, { handshakeTimeoutMs: 400 });
      await new Promise((r) => setTimeout(r, 800)); // twice the handshake bound: it is waiting, not failing
      await client.ping();
      await client.close();
      client = await second;
      await client.ping();
    });

    it('reconnects cleanly many times (each connection synced afresh)', async () => {
      await client.close();
      for (let i = 0; i < 5; i++) {
        const c = await openAgent({ socket: peer.socketPath });
        await c.ping();
        await c.close();
      }
      client = await openAgent({ socket: peer.socketPath });
    });
  });

  describeWithPeers(`blocked commands on the ${P.name}`, P.commands, () => {
    let peer: AgentPeer;
    let client: AgentClient;
    beforeAll(async () => {
      peer = await P.start({ block: ['guest-exec', 'guest-file-open', 'guest-file-read'] });
      client = await openAgent({ socket: peer.socketPath });
    });
    afterAll(async () => {
      await client?.close();
      await peer?.close();
    });

    it('says COMMAND_DISABLED for a blocked command, and guest-info shows it disabled', async () => {
      const e = await rejectionOf(client.exec('/bin/true'));
      expect(e.code).toBe('COMMAND_DISABLED');
      expect(e.details).toMatchObject({ class: 'CommandNotFound', command: 'guest-exec' });
      expect(e.retryable).toBe(false);
      expect(await client.isEnabled('guest-exec')).toBe(false);
      expect(await client.isEnabled('guest-ping')).toBe(true);
    });

    it('readFile auto: disabled file access falls back to exec, which is disabled too', async () => {
      expect(await codeOf(client.readFile('/etc/hostname'))).toBe('COMMAND_DISABLED');
      expect(await codeOf(client.readFile('/etc/hostname', { method: 'file' }))).toBe('COMMAND_DISABLED');
    });
  });

  describeWithPeers(`readFile fallback on the ${P.name}`, P.commands, () => {
    it('reads by exec of cat when only guest-file-* is blocked', async () => {
      const peer = await P.start({ block: ['guest-file-open', 'guest-file-read', 'guest-file-close'] });
      try {
        const path = join(peer.dir, 'kc');
        peer.writeGuestFile(path, 'hello\n');
        const client = await openAgent({ socket: peer.socketPath });
        expect((await client.readFile(path)).toString()).toBe('hello\n');
        await client.close();
      } finally {
        await peer.close();
      }
    });
  });
}
