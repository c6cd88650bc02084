/**
 * 20 VMs on one remote hypervisor (a real sshd on 127.0.0.1 in front of 20 real qemu-ga sockets laid
 * out as libvirt 9.0 lays them): guest-ping each one, as `kubeconfig` with many --vm-name does.
 * One shared SSH connection (ControlMaster) vs one connection per VM, sequential vs 4 at a time.
 * Every iteration starts cold (no master) and ends with every connection closed.
 * Needs root, sshd, ssh, ssh-keygen and qemu-ga. Run: npm run bench -- remote
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
import { measure, median, report } from './lib.js';

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
} finally {
  await closeSshConnections();
  for (const a of agents) await a.stop();
  await sshd.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(benchTmp, { recursive: true, force: true });
}
