/**
 * 20 VMs on one remote hypervisor (a real sshd on 127.0.0.1 in front of 20 real qemu-ga sockets laid
 * out as libvirt 9.0 lays them): guest-ping each one, as `kubeconfig` with many --vm-name does.
 * One shared SSH connection (ControlMaster) vs one connection per VM, sequential vs 4 at a time.
 * Every iteration starts cold (no master) and ends with every connection closed.
 * Needs root, sshd, ssh, ssh-keygen and qemu-ga. Run: npm run bench -- remote
 * With QKS_BENCH_BEFORE (bench/lib.ts) the single steps and one VM's own-connection ping also run
 * beside the older build's code, interleaved (more iterations: ssh start-up is noisy).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDirect } from '../src/agent/direct.js';
import { parseLibvirtUri } from '../src/libvirt/uri.js';
import { remoteAgentCandidates as plan, type RemoteAgentOptions } from '../src/remote/agent.js';
import { sshDestination } from '../src/remote/destination.js';
import { discoverRemoteChannels } from '../src/remote/discover.js';
import { forwardRemoteSocket } from '../src/remote/forward.js';
import { SshHost, SshPool } from '../src/ssh/index.js';
import { processesMatching, startQemuGa, startSshd } from '../test/helpers/sshd.js';
import { before, besideModules, measure, measureInterleaved, median, report, reportBeside, type Sample } from './lib.js';

const VMS = 20;
const JOBS = 4;

async function pool<T>(items: T[], jobs: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const sshd = await startSshd();
// short: the deepest socket path must stay under the 108-byte limit of unix socket paths
const root = mkdtempSync(join(tmpdir(), 'qks-br-'));
// a TMPDIR of our own for the ssh connections: the masters counted below are exactly this run's
const benchTmp = mkdtempSync(join(tmpdir(), 'qks-bt-'));
process.env.TMPDIR = benchTmp;
const env = { ...process.env, QKS_SSH_CONFIG: sshd.config, QKS_CHANNEL_ROOT: root };
const names = Array.from({ length: VMS }, (_, i) => `kube-${String(i + 1).padStart(2, '0')}`);
const agents = await Promise.all(names.map((n, i) => startQemuGa(join(root, `var/lib/libvirt/qemu/channel/target/domain-${i + 1}-${n}/org.qemu.guest_agent.1`))));
const uri = parseLibvirtUri(sshd.uri());
// the bench's SSH connections: an object it owns; closing it ends every master
let sshPool = new SshPool();
const remoteAgentCandidates = (o: Omit<RemoteAgentOptions, 'pool'>) => plan({ pool: sshPool, transport: 'direct', ...o }).then((p) => p.candidates);
async function closeSshConnections(): Promise<void> {
  await sshPool.close();
  sshPool = new SshPool();
}

// shared: openAgent's ssh candidates (one pooled master per hypervisor)
async function pingShared(vmName: string): Promise<void> {
  const [c] = await remoteAgentCandidates({ uri, vmName, env });
  const t = await c!.open({ handshakeTimeoutMs: 3000 });
  await t.execute('guest-ping');
  await t.close();
}

// per VM: the same steps over a connection of its own
async function pingOwnConnection(vmName: string): Promise<void> {
  const ssh = new SshHost(sshDestination(uri), {}, env);
  try {
    const d = await discoverRemoteChannels(ssh, vmName, { env });
    const fwd = await forwardRemoteSocket(ssh, d.sockets[0]!.path);
    const t = await connectDirect(fwd.socketPath, { handshakeTimeoutMs: 3000 });
    await t.execute('guest-ping');
    await t.close();
    await fwd.close();
  } finally {
    await ssh.close();
  }
}

const opts = { iterations: 5, warmup: 1 };
let masters = 0;
try {
  const perVmSeq = await measure(`${VMS} VMs, one connection per VM, sequential`, async () => {
    for (const n of names) await pingOwnConnection(n);
  }, opts);
  const perVmPar = await measure(`${VMS} VMs, one connection per VM, ${JOBS} at a time`, () => pool(names, JOBS, pingOwnConnection), opts);
  const sharedSeq = await measure(`${VMS} VMs, one shared connection, sequential`, async () => {
    for (const n of names) await pingShared(n);
    await closeSshConnections();
  }, opts);
  // the same without the host-scan reuse: one discovery command per VM
  const sharedSeqNoScanReuse = await measure(`${VMS} VMs, one shared connection, sequential, a scan per VM`, async () => {
    for (const n of names) {
      const [c] = await remoteAgentCandidates({ uri, vmName: n, env, maxAgeMs: 0 });
      const t = await c!.open({ handshakeTimeoutMs: 3000 });
      await t.execute('guest-ping');
      await t.close();
    }
    await closeSshConnections();
  }, opts);
  const sharedPar = await measure(`${VMS} VMs, one shared connection, ${JOBS} at a time`, async () => {
    await pool(names, JOBS, async (n) => {
      await pingShared(n);
      masters = Math.max(masters, processesMatching(benchTmp).filter((l) => l.includes('ControlMaster=yes')).length);
    });
    await closeSshConnections();
  }, opts);
  // a single step through an open master, for scale: one remote command (discovery) and one ping
  const ssh = new SshHost(sshDestination(uri), {}, env);
  await ssh.connect();
  const oneDiscovery = await measure('one host scan (discovery) through an open master', () => discoverRemoteChannels(ssh, names[0]!, { env, maxAgeMs: 0 }), { iterations: 15, warmup: 2 });
  const oneConnect = await measure('one SSH connect (new master)', async () => {
    const h = new SshHost(sshDestination(uri), {}, env);
    await h.connect();
    await h.close();
  }, { iterations: 10, warmup: 1 });
  await ssh.close();

  report(`remote hypervisor: guest-ping ${VMS} VMs behind one sshd (whole batch, cold start)`, perVmSeq, [perVmPar, sharedSeqNoScanReuse, sharedSeq, sharedPar]);
  report('single steps', oneConnect, [oneDiscovery]);
  console.log(`\nper VM (shared, ${JOBS} at a time): ${(median(sharedPar) / VMS).toFixed(1)} ms; ssh processes seen at once with the shared connection: ${masters}`);
  if (before) await beside();
} finally {
  await closeSshConnections();
  for (const a of agents) await a.stop();
  await sshd.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(benchTmp, { recursive: true, force: true });
}

/** The same steps through this build's and the older build's modules (the SSH host moved from src/remote/ssh.ts to src/ssh/). */
async function beside(): Promise<void> {
  const paths = ['src/ssh/index.ts', 'src/remote/destination.ts', 'src/remote/discover.ts', 'src/remote/forward.ts', 'src/agent/direct.ts'];
  const m = await besideModules(paths, ['src/remote/ssh.ts', 'src/remote/ssh.ts', 'src/remote/discover.ts', 'src/remote/forward.ts', 'src/agent/direct.ts']);
  const steps = (side: typeof m.new) => {
    const [ssh, dest, discover, forward, direct] = side as [typeof import('../src/ssh/index.js'), typeof import('../src/remote/destination.js'), typeof import('../src/remote/discover.js'), typeof import('../src/remote/forward.js'), typeof import('../src/agent/direct.js')];
    const host = () => new ssh.SshHost(dest.sshDestination(uri), {}, env);
    return { host, discover: discover.discoverRemoteChannels, forward: forward.forwardRemoteSocket, connect: direct.connectDirect };
  };
  const sides = { new: steps(m.new), old: steps(m.old) };
  const open = { new: sides.new.host(), old: sides.old.host() };
  await open.new.connect();
  await open.old.connect();
  const rows: { name: string; old: Sample; new: Sample }[] = [];
  const pair = async (name: string, fn: (s: (typeof sides)['new'], h: SshHost) => Promise<unknown>, iterations: number) => {
    const [n, o] = await measureInterleaved([{ name, fn: () => fn(sides.new, open.new) }, { name, fn: () => fn(sides.old, open.old as unknown as SshHost) }], { iterations, warmup: 2 });
    rows.push({ name, new: n!, old: o! });
  };
  try {
    await pair('one SSH connect (new master)', async (s) => {
      const h = s.host();
      await h.connect();
      await h.close();
    }, 40);
    await pair('one host scan (discovery) through an open master', (s, h) => s.discover(h, names[0]!, { env, maxAgeMs: 0 }), 30);
    await pair('one VM, a connection of its own: scan, forward, handshake, ping', async (s) => {
      const h = s.host();
      try {
        const d = await s.discover(h, names[0]!, { env });
        const fwd = await s.forward(h, d.sockets[0]!.path);
        const t = await s.connect(fwd.socketPath, { handshakeTimeoutMs: 3000 });
        await t.execute('guest-ping');
        await t.close();
        await fwd.close();
      } finally {
        await h.close();
      }
    }, 30);
  } finally {
    await open.new.close();
    await open.old.close();
  }
  reportBeside('remote hypervisor, single steps', rows);
}
