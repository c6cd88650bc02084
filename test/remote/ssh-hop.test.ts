/**
 * The qemu+ssh hop against a real sshd (127.0.0.1, random port, its own keys) in front of real qemu-ga
 * sockets (and one fake agent) laid out as libvirt lays them under a temp root.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { isQksError, type QksError } from '../../src/errors.js';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { parseLibvirtUri } from '../../src/libvirt/uri.js';
import { openRemoteAgentSocket, remoteAgentCandidates as plan, sshHostFor as hostFrom, type RemoteAgentOptions } from '../../src/remote/agent.js';
import { sshDestination } from '../../src/remote/destination.js';
import { discoverRemoteChannels } from '../../src/remote/discover.js';
import { checkSshHop as checkHop, type SshHopOptions } from '../../src/doctor/checks/ssh-hop.js';
import { SshHost, SshPool, type SshOptions } from '../../src/ssh/index.js';
import { describeWithPeers, IS_ROOT } from '../helpers/peers.js';
import { freePort, processesMatching, startQemuGa, startSshd, waitFor, type TestSshd } from '../helpers/sshd.js';
import { rejectionOf } from '../helpers/errors.js';

const KUBECONFIG = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';

// the suite's SSH connections: an object it owns and closes (no module-level pool)
let pool = new SshPool();
const sshHostFor = (uri: ReturnType<typeof parseLibvirtUri>, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env) => hostFrom(pool, uri, opts, env);
/** The channel candidates only (--transport direct: discovery failures throw). */
const remoteAgentCandidates = (o: Omit<RemoteAgentOptions, 'pool'>) => plan({ pool, transport: 'direct', ...o }).then((p) => p.candidates);
const checkSshHop = (o: Omit<SshHopOptions, 'pool'>) => checkHop({ pool, ...o });
const closeSshConnections = async () => {
  await pool.close();
  pool = new SshPool();
};

describeWithPeers(
  'qemu+ssh hop (real sshd, real qemu-ga)',
  ['sshd', 'ssh', 'ssh-keygen', 'qemu-ga', 'pgrep'],
  () => {
    let sshd: TestSshd;
    let root: string;
    let env: NodeJS.ProcessEnv;
    const stops: (() => Promise<void>)[] = [];
    let fake: FakeAgent;

    beforeAll(async () => {
      sshd = await startSshd();
      root = mkdtempSync(join(tmpdir(), 'qks-h-root-'));
      env = { QKS_SSH_CONFIG: sshd.config, QKS_CHANNEL_ROOT: root };
      // Debian 12 layout (libvirt 9.0), dedicated channel
      stops.push((await startQemuGa(join(root, 'var/lib/libvirt/qemu/channel/target/domain-3-kube-a/org.qemu.guest_agent.1'))).stop);
      // libvirt >= 9.2 layout, standard channel only
      stops.push((await startQemuGa(join(root, 'run/libvirt/qemu/channel/7-kube-b/org.qemu.guest_agent.0'))).stop);
      // a live status XML naming a path outside the usual trees, served by the fake agent (with a kubeconfig)
      mkdirSync(join(root, 'srv/qks'), { recursive: true });
      fake = await startFakeAgent({ socketPath: join(root, 'srv/qks/kube-c.sock'), files: { [KUBECONFIG]: 'apiVersion: v1\nkind: Config\n' } });
      writeFileSync(
        join(root, 'run/libvirt/qemu/kube-c.xml'),
        `<domstatus><domain type='kvm' id='12'><name>kube-c</name><devices><channel type='unix'><source mode='bind' path='/srv/qks/kube-c.sock'/><target type='virtio' name='org.qemu.guest_agent.1' state='connected'/></channel></devices></domain></domstatus>`,
      );
    });

    afterAll(async () => {
      await closeSshConnections();
      await fake?.close();
      for (const s of stops) await s();
      await sshd?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('pings a real qemu-ga on the dedicated channel through the forward', async () => {
      const [first] = await remoteAgentCandidates({ uri: sshd.uri(), vmName: 'kube-a', env });
      expect(first!.label).toContain('dedicated channel');
      const t = await first!.open({ handshakeTimeoutMs: 3000 });
      try {
        expect(await t.execute('guest-ping')).toEqual({});
        expect(t.info).toMatchObject({ kind: 'direct', channel: 'org.qemu.guest_agent.1', via: `root@127.0.0.1:${sshd.port}`, domain: 'kube-a' });
        expect(existsSync(t.info.socketPath!)).toBe(true);
      } finally {
        await t.close();
      }
      // the forward's local socket is gone with the transport
      expect(existsSync(t.info.socketPath!)).toBe(false);
    });

    it('finds the newest layout and the standard channel', async () => {
      const ssh = sshHostFor(parseLibvirtUri(sshd.uri()), {}, env);
      const d = await discoverRemoteChannels(ssh, 'kube-b', { env });
      expect(d.sockets.map((s) => [s.source, s.channel, s.domainId])).toEqual([['state-dir', 'org.qemu.guest_agent.0', 7]]);
    });

    it('follows the live status XML to an unusual path and reads a guest file there (kubeconfig)', async () => {
      const [first] = await remoteAgentCandidates({ uri: sshd.uri(), vmName: 'kube-c', env });
      const client = new AgentClient(await first!.open({ handshakeTimeoutMs: 3000 }));
      try {
        expect((await client.readFile(KUBECONFIG)).toString()).toContain('kind: Config');
      } finally {
        await client.close();
      }
    });

    it('shares one SSH connection (one ssh process) among many VMs and requests', async () => {
      const ssh = sshHostFor(parseLibvirtUri(sshd.uri()), {}, env);
      const exec = vi.spyOn(ssh, 'exec');
      const opened = await Promise.all(['kube-a', 'kube-b', 'kube-c', 'kube-a'].map((vmName) => openRemoteAgentSocket({ uri: sshd.uri(), vmName, env, maxAgeMs: 60_000, pool })));
      try {
        // one host scan serves the batch (plus one test of kube-c's unusual status-XML path)
        expect(exec.mock.calls.length).toBeLessThanOrEqual(2);
        expect(new Set(opened.map((o) => o.socketPath)).size).toBe(4);
        expect(processesMatching(ssh.dir)).toHaveLength(1);
      } finally {
        await Promise.all(opened.map((o) => o.close()));
      }
      expect(readdirSync(ssh.dir)).toEqual(['m']);
    });

    it('a VM started after a host scan is still found (a miss rescans)', async () => {
      const ssh = sshHostFor(parseLibvirtUri(sshd.uri()), {}, env);
      expect((await discoverRemoteChannels(ssh, 'kube-late', { env, maxAgeMs: 60_000 })).sockets).toEqual([]);
      mkdirSync(join(root, 'run/libvirt/qemu/channel/21-kube-late'), { recursive: true });
      const late = await startFakeAgent({ socketPath: join(root, 'run/libvirt/qemu/channel/21-kube-late/org.qemu.guest_agent.1') });
      try {
        const d = await discoverRemoteChannels(ssh, 'kube-late', { env, maxAgeMs: 60_000 });
        expect(d.sockets.map((x) => x.domainId)).toEqual([21]);
      } finally {
        await late.close();
      }
    });

    it('unknown host key → SSH_HOST_KEY, and known_hosts is not written', async () => {
      const e = await rejectionOf(remoteAgentCandidates({ uri: sshd.uri(), vmName: 'kube-a', env: { ...env, QKS_SSH_CONFIG: sshd.configUnknownHost } }));
      expect(e.code).toBe('SSH_HOST_KEY');
      expect(e.exitCode).toBe(7);
      expect(e.hint).toContain('known_hosts');
    });

    it('no_verify=1 accepts an unknown host key, as libvirt does', async () => {
      const cands = await remoteAgentCandidates({ uri: sshd.uri({ params: 'no_verify=1' }), vmName: 'kube-a', env: { ...env, QKS_SSH_CONFIG: sshd.configUnknownHost } });
      expect(cands.length).toBeGreaterThan(0);
    });

    it('a refused key → SSH_AUTH', async () => {
      const e = await rejectionOf(remoteAgentCandidates({ uri: sshd.uri({ key: sshd.badKey }), vmName: 'kube-a', env }));
      expect(e.code).toBe('SSH_AUTH');
      expect(e.exitCode).toBe(4);
    });

    it('a missing keyfile is named before ssh runs', async () => {
      const e = await rejectionOf(remoteAgentCandidates({ uri: sshd.uri({ key: '/nonexistent/qks-key' }), vmName: 'kube-a', env }));
      expect(e.code).toBe('INPUT_NOT_FOUND');
    });

    it('a missing remote socket → SOCKET_NOT_FOUND naming the host', async () => {
      const e = await rejectionOf(remoteAgentCandidates({ uri: sshd.uri(), vmName: 'nope', env }));
      expect(e.code).toBe('SOCKET_NOT_FOUND');
      expect(e.message).toContain(`root@127.0.0.1:${sshd.port}`);
      expect(e.exitCode).toBe(3);
    });

    it('nothing listening → SSH_FAILED; a silent server → SSH_TIMEOUT within ConnectTimeout', async () => {
      const port = await freePort();
      const nobody = new SshHost(sshDestination(parseLibvirtUri(`qemu+ssh://root@127.0.0.1:${port}/system`)), { configFile: sshd.config });
      const refused = await rejectionOf(nobody.connect());
      expect(refused.code).toBe('SSH_FAILED');
      // a failed connect leaves nothing behind, even before close()
      expect(existsSync(nobody.dir)).toBe(false);
      await nobody.close();
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const host = new SshHost(sshDestination(parseLibvirtUri(`qemu+ssh://root@127.0.0.1:${(silent.address() as { port: number }).port}/system`)), { configFile: sshd.config, connectTimeoutSec: 1 });
      try {
        const t0 = performance.now();
        const e = await rejectionOf(host.connect());
        expect(e.code).toBe('SSH_TIMEOUT');
        expect(performance.now() - t0).toBeLessThan(5000);
      } finally {
        await host.close();
        silent.close();
      }
    });

    it('Ctrl-C (AbortSignal) stops a hanging connect and leaves no ssh process or file', async () => {
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const host = new SshHost(sshDestination(parseLibvirtUri(`qemu+ssh://root@127.0.0.1:${(silent.address() as { port: number }).port}/system`)), { configFile: sshd.config });
      const ac = new AbortController();
      const p = rejectionOf(host.connect(ac.signal));
      await waitFor(() => processesMatching(host.dir).length === 1, 5000, 'ssh to start');
      ac.abort();
      await p;
      await host.close();
      silent.close();
      await waitFor(() => processesMatching(host.dir).length === 0, 5000, 'ssh to be gone');
      expect(existsSync(host.dir)).toBe(false);
    });

    it('hostile VM names are quoted (nothing runs) or refused', async () => {
      const marker = `qks-pwned-${process.pid}`;
      for (const vmName of [`x; touch ${marker}`, `$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`, `*`]) {
        const e = await rejectionOf(remoteAgentCandidates({ uri: sshd.uri(), vmName, env }));
        expect(e.code).toBe('SOCKET_NOT_FOUND');
      }
      // the remote shell starts in root's home; nothing may have been created there or in /tmp
      expect(existsSync(join(homedir(), marker))).toBe(false);
      expect(existsSync(join('/', marker))).toBe(false);
      const e = await rejectionOf(remoteAgentCandidates({ uri: sshd.uri(), vmName: 'x; touch /tmp/pwned', env }));
      expect(e.code).toBe('USAGE');
      expect(existsSync('/tmp/pwned')).toBe(false);
    });

    it("a VM name with blanks and quotes is found and forwarded (ssh's -L spec takes the path whole)", async () => {
      const vmName = `kube "d" it's`;
      const ga = await startQemuGa(join(root, `run/libvirt/qemu/channel/31-${vmName}/org.qemu.guest_agent.1`));
      try {
        const [first] = await remoteAgentCandidates({ uri: sshd.uri(), vmName, env, maxAgeMs: 0 });
        expect(first!.label).toContain(`31-${vmName}/org.qemu.guest_agent.1`);
        const t = await first!.open({ handshakeTimeoutMs: 3000 });
        try {
          expect(await t.execute('guest-ping')).toEqual({});
        } finally {
          await t.close();
        }
      } finally {
        await ga.stop();
      }
    });

    it('doctor line: ok with the dedicated channel, warn with the standard one, fail with its fix', async () => {
      expect(await checkSshHop({ uri: sshd.uri(), vmName: 'kube-a', env })).toMatchObject({ id: 'ssh-hop', status: 'ok' });
      expect(await checkSshHop({ uri: sshd.uri(), vmName: 'kube-b', env })).toMatchObject({ status: 'warn' });
      const bad = await checkSshHop({ uri: sshd.uri({ key: sshd.badKey }), vmName: 'kube-a', env });
      expect(bad).toMatchObject({ status: 'fail', data: { code: 'SSH_AUTH' } });
      expect(bad.fix).toBeTruthy();
      expect(await checkSshHop({ uri: 'qemu:///system' })).toMatchObject({ status: 'skip' });
    });

    it('closing the pool ends every master and removes every file', async () => {
      const ssh = sshHostFor(parseLibvirtUri(sshd.uri()), {}, env);
      await ssh.connect();
      expect(processesMatching(ssh.dir)).toHaveLength(1);
      await closeSshConnections();
      expect(processesMatching(ssh.dir)).toHaveLength(0);
      expect(existsSync(ssh.dir)).toBe(false);
    });
  },
  () => (IS_ROOT ? undefined : 'needs root (sshd logs the test in as root)'),
);

describe('qemu+ssh hop without peers', () => {
  it('refuses a VM name with a slash before any ssh runs', async () => {
    const e = await rejectionOf(plan({ uri: 'qemu+ssh://root@127.0.0.1:1/system', vmName: '../x', env: {}, pool: new SshPool() }));
    expect(e.code).toBe('USAGE');
  });
});
